import {expect} from 'chai'
import {once} from 'node:events'
import {connect, createServer, type Server, type Socket} from 'node:net'
import {RaftctlClient} from '../../src/client/index.js'
import {sleep, stopAll, waitFor} from '../integration/harness.js'
import {ChaosCluster} from './cluster.js'
import {ChaosProxy} from './proxy.js'

/** Opens a CONNECT tunnel through `port` to `target`; resolves with the socket and the status line. */
async function tunnel(port: number, target: string): Promise<{socket: Socket, status: string}> {
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`)
  let head = ''
  while (!head.includes('\r\n\r\n')) {
    const [d] = await once(socket, 'data') as [Buffer]
    head += d.toString('latin1')
  }
  return {socket, status: head.split('\r\n')[0]}
}

/** Reads from `socket` until `n` bytes came (bounded by the test timeout). */
async function read(socket: Socket, n: number): Promise<string> {
  let got = ''
  while (got.length < n) got += ((await once(socket, 'data')) as [Buffer])[0].toString()
  return got
}

describe('chaos/proxy (fault-injecting CONNECT proxy)', function () {
  this.timeout(60_000)

  describe('tunnels over plain TCP', () => {
    let echo: Server
    let target: string
    let proxy: ChaosProxy
    let port1: number
    beforeEach(async () => {
      echo = createServer((s) => s.on('error', () => {}).pipe(s))
      await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()))
      target = `127.0.0.1:${(echo.address() as {port: number}).port}`
      proxy = new ChaosProxy()
      port1 = await proxy.listen(1)
      proxy.setPeerAddress(2, target)
    })
    afterEach(async () => {
      await proxy.close()
      echo.close()
    })

    it('carries bytes both ways and counts the link it belongs to', async () => {
      const {socket, status} = await tunnel(port1, target)
      expect(status).to.equal('HTTP/1.1 200 Connection Established')
      socket.write('hello')
      expect(await read(socket, 5)).to.equal('hello')
      expect(proxy.opened.get('1>2')).to.equal(1)
      socket.destroy()
    })

    it('cutting A->B destroys the open tunnels and refuses new ones; cutting B->A does not touch them', async () => {
      const {socket} = await tunnel(port1, target)
      proxy.cut(2, 1)
      socket.write('x')
      expect(await read(socket, 1)).to.equal('x')
      const closed = once(socket, 'close')
      proxy.cut(1, 2)
      await closed
      expect((await tunnel(port1, target)).status).to.equal('HTTP/1.1 503 Service Unavailable')
      expect(proxy.cutLinks().sort()).to.deep.equal(['1>2', '2>1'])
      proxy.healAll()
      expect((await tunnel(port1, target)).status).to.equal('HTTP/1.1 200 Connection Established')
    })

    it('delays holds every chunk at least the delay and keeps the order when the delay shrinks', async () => {
      const {socket} = await tunnel(port1, target)
      proxy.delay(1, 2, 300)
      const start = Date.now()
      socket.write('a')
      await sleep(20)
      proxy.delay(1, 2, 0)
      socket.write('b')
      expect(await read(socket, 2)).to.equal('ab')
      expect(Date.now() - start).to.be.at.least(290)
      socket.destroy()
    })

    it('passes tunnels to other addresses through untouched', async () => {
      const other = new ChaosProxy()
      const p = await other.listen(1)
      const {socket, status} = await tunnel(p, target)
      expect(status).to.equal('HTTP/1.1 200 Connection Established')
      expect(other.passedThrough).to.equal(1)
      socket.destroy()
      await other.close()
    })
  })

  describe('in front of a real cluster', () => {
    const cluster = new ChaosCluster()
    let client: RaftctlClient
    before(async () => {
      await cluster.bootstrap(3, 0)
      client = new RaftctlClient({endpoints: cluster.endpoints, timeoutMs: 5000})
    })
    after(async () => {
      client?.close()
      await cluster.shutdown()
      await stopAll()
    })

    it('sees the peer links both ways between the leader and each follower (grpc-js honours grpc_proxy on loopback), and no client connection', async () => {
      const leader = await cluster.waitLeader()
      await client.put('p/1', 'x')
      // Followers talk to the leader only (to each other only in elections), so these links must exist.
      const expected = [1, 2, 3].filter((id) => id !== leader).flatMap((id) => [`${leader}>${id}`, `${id}>${leader}`]).sort()
      await waitFor(`tunnels for the links ${expected.join(', ')}`, () => expected.every((l) => cluster.proxy.opened.has(l)))
      expect(cluster.proxy.passedThrough).to.equal(0)
    })

    it('isolating the leader makes the others elect a new one, and healing reunites them', async () => {
      const old = await cluster.waitLeader()
      const others = [1, 2, 3].filter((id) => id !== old)
      for (const id of others) {
        cluster.proxy.cut(old, id)
        cluster.proxy.cut(id, old)
      }
      const c = new RaftctlClient({endpoints: others.map((id) => cluster.node(id).client), timeoutMs: 1500})
      try {
        const next = await waitFor('a new leader among the others', async () => {
          const s = await Promise.all(others.map((id) => c.status(cluster.node(id).client)))
          return s[0].leader !== 0 && s[0].leader !== old && s.every((x) => x.leader === s[0].leader) ? s[0].leader : undefined
        }, {timeoutMs: 30_000, intervalMs: 200})
        expect(others).to.include(next)
        cluster.proxy.healAll()
        await client.put('p/2', 'after heal')
        await waitFor('the old leader to follow the new one', async () =>
          (await c.status(cluster.node(old).client)).leader === next || undefined, {timeoutMs: 30_000, intervalMs: 200})
      } finally {
        c.close()
      }
    })
  })
})
