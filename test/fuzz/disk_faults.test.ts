// A data dir on a full or read-only file system, at start and during writes: the node stops (or
// refuses to start) with one line naming the data dir and the cause, acknowledges no write it
// could not make durable, corrupts nothing, and once the fault is fixed it starts again with every
// acknowledged write. Two variants of the same sequence:
// - a real `raftctl server start` process on a 3 MiB tmpfs (real ENOSPC and EROFS from the
//   kernel), where this machine lets the test mount one (root); skipped with the reason elsewhere;
// - a node started in this process with faults injected into its RocksDB calls
//   (src/storage/db.ts injectDbFaults), which runs everywhere and also covers a file system that
//   turns read-only while the node writes (a busy tmpfs cannot be remounted read-only).
import {join} from 'node:path'
import {Writable} from 'node:stream'
import {expect} from 'chai'
import {bytesToString, RaftctlClient} from '../../src/client/index.js'
import {resolveServerConfig} from '../../src/server/config_resolve.js'
import {createLogger} from '../../src/server/logger.js'
import {type RunningServer, startServer} from '../../src/server/server.js'
import {type DbOperation, injectDbFaults} from '../../src/storage/db.js'
import {DiskFaultError} from '../../src/storage/errors.js'
import {ensureBuilt, freePorts, type NodeProc, stopAll, tempDir, TestCluster} from '../integration/harness.js'
import {difference, fingerprintClosed} from './datadir.js'
import {probeTmpfs, Tmpfs} from './tmpfs.js'

/** Values large enough that a few dozen fill a 3 MiB file system. */
const value = (i: number): string => `${i}:`.padEnd(20_000, String.fromCharCode(97 + (i % 26)))
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Puts keys until one fails (at most `max`); returns the error of the failed put. */
async function writeUntilFailure(client: RaftctlClient, acked: Map<string, string>, max: number): Promise<Error | undefined> {
  for (let i = acked.size; i < acked.size + max; i++) {
    const key = `disk/${String(i).padStart(5, '0')}`
    try {
      await client.put(key, value(i))
    } catch (err) {
      return err as Error
    }
    acked.set(key, value(i))
  }
  return undefined
}

/** Every acknowledged write is there, and a new write succeeds. */
async function expectAllAcked(client: RaftctlClient, acked: Map<string, string>): Promise<void> {
  for (const [key, v] of acked) {
    const kv = await client.get(key)
    expect(kv === undefined ? undefined : bytesToString(kv.value), `acknowledged key ${key}`).to.equal(v)
  }
  await client.put('disk/after-recovery', 'ok')
}

const probe = probeTmpfs()
const onTmpfs = probe.ok ? describe : describe.skip

onTmpfs(`disk faults: a node process on a 3 MiB tmpfs${probe.ok ? '' : ` (skipped: ${probe.reason}; the injected variant below covers the same cases)`}`, function () {
  this.timeout(120_000)
  let fs: Tmpfs
  let cluster: TestCluster
  let node: NodeProc
  let dataDir: string
  const acked = new Map<string, string>()

  before(async function () {
    this.timeout(240_000)
    ensureBuilt()
    fs = new Tmpfs(3)
    cluster = new TestCluster()
    dataDir = join(fs.path, 'n1')
    node = cluster.add({...(await cluster.spec(1)), dataDir}, [])
  })

  after(async () => {
    cluster?.close()
    await stopAll()
    fs?.unmount()
  })

  /** Starts the node and returns what it printed until it exited (it must exit on its own). */
  async function failedStart(): Promise<{code: number | null, errors: string[]}> {
    const from = node.output.length
    node.start()
    const code = await node.waitExit(30_000)
    return {code, errors: node.output.slice(from).split('\n').filter((l) => l.startsWith('Error:'))}
  }

  async function startServing(): Promise<RaftctlClient> {
    node.start()
    await cluster.waitLeader([1])
    return cluster.client([1], 5000)
  }

  it('refuses to create a data dir on a full file system with one line naming it and the cause', async () => {
    fs.fill()
    const r = await failedStart()
    expect(r.code).to.equal(1)
    expect(r.errors).to.have.length(1)
    expect(r.errors[0]).to.match(new RegExp(`^Error: data dir ${escape(dataDir)}: .+ failed: the file system is full \\(.+\\); free space on it, then try again$`))
    fs.unfill()
  })

  it('creates it once there is space, and serves', async () => {
    const client = await startServing()
    await client.put('disk/first', 'x')
    acked.set('disk/first', 'x')
  })

  it('stops with one line naming the data dir and the cause when the disk fills during writes, acknowledging nothing it could not persist', async () => {
    const failure = await writeUntilFailure(cluster.client([1], 3000), acked, 2000)
    expect(failure, 'a write must fail once the disk is full').to.not.equal(undefined)
    expect(await node.waitExit(30_000)).to.equal(1)
    const fatal = node.events('node-failed')
    expect(fatal).to.have.length(1)
    expect(String(fatal[0].error)).to.match(new RegExp(`^data dir ${escape(dataDir)}: RocksDB .+ failed: the file system is full \\(.*No space left on device.*\\); free space on it, then try again$`))
  })

  it('refuses to start while the disk is still full', async () => {
    const r = await failedStart()
    expect(r.code).to.equal(1)
    expect(r.errors).to.have.length(1)
    expect(r.errors[0]).to.match(/the file system is full .*; free space on it, then try again$/)
  })

  it('starts once the file system has room again, with every acknowledged write', async () => {
    fs.resize(32)
    await expectAllAcked(await startServing(), acked)
  })

  it('refuses to start on a read-only file system and starts again once it is writable', async () => {
    expect(await node.stop()).to.equal(0)
    const before = await fingerprintClosed(dataDir)
    fs.readOnly(true)
    const r = await failedStart()
    fs.readOnly(false)
    expect(r.code).to.equal(1)
    expect(r.errors).to.have.length(1)
    expect(r.errors[0]).to.match(new RegExp(`^Error: data dir ${escape(dataDir)}: .+ failed: the file system is read-only \\(.+\\); make it writable, then try again$`))
    expect(difference(before, await fingerprintClosed(dataDir))).to.equal(undefined)
    await expectAllAcked(await startServing(), acked)
  })
})

describe('disk faults: a node with faults injected into its RocksDB calls (runs everywhere)', function () {
  this.timeout(60_000)
  const root = tempDir('raftctl-diskfault-')
  const dataDir = join(root, 'n1')
  const acked = new Map<string, string>()
  let lines: string[] = []
  let server: RunningServer | undefined
  let client: RaftctlClient | undefined

  const ENOSPC = (loc: string): Error => new Error(`IO error: No space left on deviceWhile appending to file: ${loc}/000004.log: No space left on device`)
  const EROFS = (loc: string): Error => new Error(`IO error: While open a file for appending: ${loc}/000009.log: Read-only file system`)

  /** Fails `op` (every call once armed) with `fault`; the write count arms it after `after` writes. */
  function inject(op: DbOperation, fault: (loc: string) => Error, after = 0): void {
    let seen = 0
    injectDbFaults((o, loc) => (o === op && ++seen > after ? fault(loc) : undefined))
  }

  async function start(): Promise<RunningServer> {
    const [cp, pp] = await freePorts(2)
    const cfg = resolveServerConfig({'data-dir': dataDir, 'listen-client': `127.0.0.1:${cp}`, 'listen-peer': `127.0.0.1:${pp}`,
      'tick-ms': '30', 'log-format': 'json'}, {})
    lines = []
    const capture = new Writable({write: (chunk: Buffer, _enc, cb) => {
      lines.push(...chunk.toString().split('\n').filter((l) => l !== ''))
      cb()
    }})
    const log = createLogger({level: 'info', format: 'json', nodeId: 1, destination: capture})
    return startServer(cfg, log)
  }

  async function startServing(): Promise<RaftctlClient> {
    server = await start()
    client?.close()
    client = new RaftctlClient({endpoints: [`127.0.0.1:${server.clientPort}`], timeoutMs: 5000})
    const c = client
    for (let i = 0; i < 100 && (await c.status().catch(() => undefined))?.leader !== 1; i++) await new Promise((r) => setTimeout(r, 50))
    return c
  }

  async function refusedStart(): Promise<DiskFaultError> {
    const err = await start().then((s) => {
      server = s
      throw new Error('the node started although its disk failed')
    }, (e: unknown) => e)
    expect(err).to.be.instanceOf(DiskFaultError)
    return err as DiskFaultError
  }

  /** The node stopped by itself with exit code 1 and exactly one fatal line. */
  async function expectStopped(cause: RegExp): Promise<void> {
    expect(await server!.done).to.equal(1)
    server = undefined
    const fatal = lines.map((l) => JSON.parse(l) as {level: number, error?: string}).filter((l) => l.level >= 60)
    expect(fatal).to.have.length(1)
    expect(fatal[0].error).to.match(new RegExp(`^data dir ${escape(dataDir)}: RocksDB write batch in ${escape(dataDir)}/db failed: ${cause.source}`))
  }

  afterEach(() => injectDbFaults(undefined))
  after(async () => {
    injectDbFaults(undefined)
    client?.close()
    await server?.stop()
    await stopAll()
  })

  it('refuses to create a data dir on a full disk, then creates it once there is space', async () => {
    inject('open', ENOSPC)
    const err = await refusedStart()
    expect(err.message).to.match(new RegExp(`^data dir ${escape(dataDir)}: opening RocksDB in ${escape(dataDir)}/db failed: ` +
      'the file system is full \\(IO error: No space left on device; while appending to file: .+\\); free space on it, then try again$'))
    injectDbFaults(undefined)
    const c = await startServing()
    await c.put('disk/first', 'x')
    acked.set('disk/first', 'x')
  })

  it('stops with one line naming the data dir when the disk fills during writes; the failed write is not acknowledged', async () => {
    inject('write', ENOSPC, 20)
    const failure = await writeUntilFailure(client!, acked, 200)
    expect(failure).to.not.equal(undefined)
    await expectStopped(/the file system is full \(IO error: No space left on device; while appending to file: .+\); free space on it, then try again$/)
  })

  it('refuses to start while the disk is full, changing nothing, and starts with every acknowledged write once it is not', async () => {
    injectDbFaults(undefined)
    const before = await fingerprintClosed(dataDir)
    inject('open', ENOSPC)
    expect((await refusedStart()).fault).to.equal('disk-full')
    injectDbFaults(undefined)
    expect(difference(before, await fingerprintClosed(dataDir))).to.equal(undefined)
    await expectAllAcked(await startServing(), acked)
  })

  it('stops with one line naming the data dir when the file system turns read-only during writes', async () => {
    inject('write', EROFS, 10)
    expect(await writeUntilFailure(client!, acked, 200)).to.not.equal(undefined)
    await expectStopped(/the file system is read-only \(IO error: While open a file for appending: .+\); make it writable, then try again$/)
  })

  it('refuses to start on a read-only file system, then starts with every acknowledged write once it is writable', async () => {
    inject('open', EROFS)
    const err = await refusedStart()
    expect(err.message).to.match(/: the file system is read-only \(.+\); make it writable, then try again$/)
    injectDbFaults(undefined)
    await expectAllAcked(await startServing(), acked)
  })
})
