/**
 * What `raftctl server start` tells the operator when it cannot get going (issue 11 #11):
 * - a client port already in use: exactly one error line naming the address, the problem and
 *   the flag to change — no stray gRPC diagnostic before it;
 * - --join to an endpoint where nothing answers: one warn line per attempt with its number, the
 *   endpoint and the reason, the delay growing between attempts, instead of a silent minute;
 *   SIGTERM meanwhile stops it cleanly without creating the data dir.
 */
import {expect} from 'chai'
import {existsSync} from 'node:fs'
import {createServer, type Server} from 'node:net'
import {join} from 'node:path'
import {ensureBuilt, freePorts, NodeProc, stopAll, TICK_ARGS, tempDir, waitFor} from './harness.js'

/** A TCP listener on 127.0.0.1 that is not a raftctl node (closed in after()). */
function occupy(): Promise<{server: Server, port: number}> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve({server, port: (server.address() as {port: number}).port}))
  })
}

describe('integration: server start messages', function () {
  this.timeout(60_000)
  const listeners: Server[] = []

  before(function () {
    this.timeout(240_000)
    ensureBuilt()
  })

  after(async () => {
    for (const s of listeners) s.close()
    await stopAll()
  })

  it('a client port in use ends the start with one error line and nothing else but log records', async () => {
    const {server, port} = await occupy()
    listeners.push(server)
    const dir = tempDir()
    const [peerPort] = await freePorts(1)
    const n = new NodeProc({id: 1, clientPort: port, peerPort, dataDir: join(dir, 'data')}, [
      '--data-dir', join(dir, 'data'), '--listen-client', `127.0.0.1:${port}`, '--listen-peer', `127.0.0.1:${peerPort}`,
      ...TICK_ARGS, '--log-format', 'json',
    ]).start()
    expect(await n.waitExit(30_000), 'exit code').to.equal(1)
    const notLog = n.output.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'))
    expect(notLog).to.deep.equal([`Error: cannot listen for clients on 127.0.0.1:${port}: the address is already in use ` +
      '(another process listens there); choose another --listen-client'])
  })

  it('--join to an endpoint where nothing answers logs every attempt with its reason, and SIGTERM stops it', async () => {
    const dir = tempDir()
    const [clientPort, peerPort, dead] = await freePorts(3)
    const n = new NodeProc({id: 4, clientPort, peerPort, dataDir: join(dir, 'data')}, [
      '--id', '4', '--data-dir', join(dir, 'data'), '--listen-client', `127.0.0.1:${clientPort}`,
      '--listen-peer', `127.0.0.1:${peerPort}`, ...TICK_ARGS, '--log-format', 'json', '--join', `127.0.0.1:${dead}`,
    ]).start()
    const attempts = await waitFor('three failed join attempts in the log', () => {
      const a = n.events('join-attempt-failed')
      return a.length >= 3 ? a : undefined
    }, {timeoutMs: 30_000})
    expect(n.events('joining')).to.have.length(1)
    expect(attempts.slice(0, 3).map((a) => [a.level, a.attempt, a.via, a.retryInMs])).to.deep.equal([
      [40, 1, `127.0.0.1:${dead}`, 500], [40, 2, `127.0.0.1:${dead}`, 1000], [40, 3, `127.0.0.1:${dead}`, 2000],
    ])
    for (const a of attempts) {
      expect(a.code).to.equal('UNAVAILABLE')
      expect(String(a.reason)).to.match(/ECONNREFUSED|No connection established/)
      expect(String(a.msg)).to.match(new RegExp(`^could not join through 127\\.0\\.0\\.1:${dead} \\(attempt \\d+\\): .+; retrying in \\d+ ms$`))
    }
    expect(await n.stop('SIGTERM'), 'a clean stop').to.equal(0)
    expect(existsSync(join(dir, 'data')), 'no data dir is created').to.equal(false)
  })
})
