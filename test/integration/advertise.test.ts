/**
 * `--advertise-client`, `--advertise-peer` and `--name` end to end: each node listens on one
 * 127.0.0.1 port and advertises another, where a TCP forwarder run by the test passes
 * connections on to the listen port. The member list, the leader hint of a follower's redirect,
 * and the peer connection the leader makes to a node that joined with --join all use the
 * advertised addresses (the forwarders see the peer traffic), never the listen addresses.
 */
import {expect} from 'chai'
import {createServer, type Server, type Socket, connect} from 'node:net'
import {join} from 'node:path'
import {RaftctlClient} from '../../src/client/index.js'
import {MemberStatus_Role} from '../../src/generated/raftctl/v1/raftctl.js'
import {ensureBuilt, freePorts, NodeProc, stopAll, tempDir, TICK_ARGS, waitFor} from './harness.js'

describe('integration: advertised addresses and names', function () {
  this.timeout(60_000)
  const nodes: NodeProc[] = []
  const clients: RaftctlClient[] = []

  const forwarders: Server[] = []
  const sockets = new Set<Socket>()
  /** Connections each forwarder (by its port) has passed on. */
  const forwarded = new Map<number, number>()

  /** Listens on 127.0.0.1:`from` and pipes every connection to 127.0.0.1:`to`. */
  function forward(from: number, to: number): Promise<void> {
    forwarded.set(from, 0)
    const server = createServer((inbound) => {
      forwarded.set(from, forwarded.get(from)! + 1)
      const outbound = connect(to, '127.0.0.1')
      for (const s of [inbound, outbound]) {
        sockets.add(s)
        s.on('close', () => sockets.delete(s))
        s.on('error', () => { inbound.destroy(); outbound.destroy() })
      }
      inbound.pipe(outbound).pipe(inbound)
    })
    forwarders.push(server)
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(from, '127.0.0.1', () => resolve())
    })
  }

  /**
   * Starts node `id` listening on two 127.0.0.1 ports and advertising two others (forwarded to
   * them), with `extra` flags. The NodeProc's ports are the advertised ones.
   */
  async function startNode(id: number, dir: string, extra: readonly string[]): Promise<NodeProc> {
    const [clientPort, peerPort, listenClient, listenPeer] = await freePorts(4)
    await forward(clientPort, listenClient)
    await forward(peerPort, listenPeer)
    const dataDir = join(dir, `n${id}`)
    const n = new NodeProc({id, clientPort, peerPort, dataDir}, [
      '--id', String(id), '--name', `alpha-${id}`, '--data-dir', dataDir,
      '--listen-client', `127.0.0.1:${listenClient}`, '--listen-peer', `127.0.0.1:${listenPeer}`,
      '--advertise-client', `127.0.0.1:${clientPort}`, '--advertise-peer', `127.0.0.1:${peerPort}`,
      ...TICK_ARGS, '--log-format', 'json', ...extra,
    ])
    nodes.push(n)
    listens.set(id, {client: `127.0.0.1:${listenClient}`, peer: `127.0.0.1:${listenPeer}`})
    return n.start()
  }

  const listens = new Map<number, {client: string, peer: string}>()

  const client = (endpoints: string[]): RaftctlClient => {
    const c = new RaftctlClient({endpoints, timeoutMs: 5000})
    clients.push(c)
    return c
  }

  let first: NodeProc
  let second: NodeProc

  before(async function () {
    this.timeout(240_000)
    ensureBuilt()
    const dir = tempDir()
    first = await startNode(1, dir, [])
    const c = client([first.client])
    await waitFor('node 1 to lead and publish its name and client URL', async () => {
      const m = (await c.memberList()).members[0]
      return m?.isLeader === true && m.member?.name === 'alpha-1' && m.member.clientUrls[0] === first.client
    })
    second = await startNode(2, dir, ['--join', first.client])
  })

  after(async () => {
    for (const c of clients) c.close()
    await stopAll()
    for (const sock of sockets) sock.destroy()
    await Promise.all(forwarders.map((f) => new Promise((r) => f.close(r))))
  })

  it('bootstraps with the advertised peer URL and publishes the advertised client URL and --name', async () => {
    const starting = first.events('starting')[0]
    expect(starting).to.include({listenClient: listens.get(1)!.client, advertiseClient: first.client,
      listenPeer: listens.get(1)!.peer, advertisePeer: first.peer, nodeName: 'alpha-1'})
    const m = (await client([first.client]).memberList()).members.find((x) => x.member?.id === 1)!
    expect(m.member).to.deep.include({name: 'alpha-1', peerUrls: [first.peer], clientUrls: [first.client]})
    expect((await client([first.client]).status()).name).to.equal('alpha-1')
  })

  it('joins with its advertised URLs, and the leader replicates to it through the advertised peer URL', async () => {
    const c = client([first.client])
    const m = await waitFor('node 2 to be a caught-up learner with its name published', async () => {
      const x = (await c.memberList()).members.find((y) => y.member?.id === 2)
      return x?.role === MemberStatus_Role.LEARNER && x.matchIndex > 1 && x.lag <= 2 && x.member?.name === 'alpha-2' ? x : undefined
    }, {timeoutMs: 30_000})
    expect(m.member).to.deep.include({peerUrls: [second.peer], clientUrls: [second.client]})
    const put = await c.put('advertised', 'yes')
    await waitFor('node 2 to apply the write', async () =>
      (await c.get('advertised', {endpoint: second.client, serializable: true}))?.modRevision === put.header!.revision)
    expect(forwarded.get(second.spec.peerPort), 'the leader dials node 2 at its advertised peer URL').to.be.greaterThan(0)
  })

  it('forwards a membership call sent to a follower to the leader at its advertised client URL', async () => {
    const viaFollower = client([second.client])
    const r = await viaFollower.memberProgress()
    expect(Number(r.header!.memberId), 'answered by the leader, reached at its advertised client URL').to.equal(1)
    expect(r.leader).to.equal(1)
  })
})
