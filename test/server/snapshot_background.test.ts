/**
 * A snapshot is built in the background: a single-voter RaftNode (in process, real RocksDB)
 * whose automatic snapshot build is held at its first slice keeps committing and applying
 * proposals meanwhile, and the file it finally writes describes exactly the state at the index
 * where the build started, not the later one. The node also caps its peers' reconnect back-off
 * at a quarter of its election timeout.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {expect} from 'chai'
import {inspectSnapshotFile, KvStore} from '../../src/kv/index.js'
import {openNodeData} from '../../src/server/bootstrap.js'
import type {ServerConfig} from '../../src/server/config.js'
import {RaftNode} from '../../src/server/node.js'
import {proposeKv} from '../../src/server/requests.js'
import {reconnectBackoff} from '../../src/transport/index.js'
import {capturingLogger, Gate} from './snapshot_helpers.js'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs
  for (let i = 0; i < timeoutMs / 5 && !cond(); i++) {
    if (Date.now() > end) break
    await new Promise((r) => setTimeout(r, 5))
  }
  if (!cond()) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

describe('server: snapshots are built in the background', function () {
  this.timeout(60_000)
  let dir: string
  let node: RaftNode | undefined
  let kv: KvStore | undefined
  let closeStorage: (() => Promise<void>) | undefined

  afterEach(async () => {
    await node?.stop()
    kv?.close()
    await closeStorage?.()
    rmSync(dir, {recursive: true, force: true})
  })

  it('keeps committing and applying proposals while a snapshot build is held, and the file holds the state it started from', async () => {
    dir = mkdtempSync(join(tmpdir(), 'raftctl-snapbg-'))
    const cfg: ServerConfig = {
      id: 1, name: 'node1', dataDir: join(dir, 'n1'), listenClient: '127.0.0.1:0', listenPeer: '127.0.0.1:0',
      advertiseClient: '127.0.0.1:1', advertisePeer: '127.0.0.1:2', initialCluster: [{id: 1, peerUrl: '127.0.0.1:2'}],
      initialClusterState: 'new', tickMs: 10, electionTicks: 10, heartbeatTicks: 1, snapshotCount: 30,
      snapshotCatchUpEntries: 5, maxLearners: 1, autoCompaction: {mode: 'periodic', retention: 0, checkIntervalMs: 300_000}, leaseCheckpointIntervalMs: 300_000, logLevel: 'info', logFormat: 'json',
      maxRequestBytes: 1_572_864, maxUncommittedBytes: 64 << 20, maxQueuedProposals: 1024, maxUnappliedEntries: 5000,
      maxConcurrentStreams: 2 ** 32 - 1, watchProgressNotifyIntervalMs: 600_000, maxTxnOps: 128,
    }
    const logs = capturingLogger()
    const opened = await openNodeData(cfg, logs.log)
    closeStorage = () => opened.storage.close()
    opened.kv.close()
    const gate = new Gate()
    kv = await KvStore.open(opened.storage, {snapshotPacer: gate.pacer})
    const fatal: unknown[] = []
    node = new RaftNode({config: cfg, storage: opened.storage, kv, log: logs.log, onFatal: (err) => fatal.push(err)})
    expect(node.transport.limits.maxBackoffMs).to.equal(reconnectBackoff(node.electionTimeoutMs).maxBackoffMs)
    expect(node.transport.limits.maxBackoffMs).to.be.at.most(node.electionTimeoutMs / 4)
    node.start()
    await until('node 1 to lead', () => node!.isLeader)

    const put = (k: string): Promise<unknown> => proposeKv(node!, {put: {key: enc(k), value: enc(`v-${k}`), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false}}, 10_000)
    gate.hold()
    for (let i = 0; i < 40; i++) await put(`before/${String(i).padStart(2, '0')}`)
    await gate.entered
    const before = opened.storage.snapshot(0, 0).metadata.index
    const appliedAtHold = opened.storage.applied.index

    // The build holds its consistent view and waits; the loop must go on without it.
    for (let i = 0; i < 50; i++) await put(`while/${String(i).padStart(2, '0')}`)
    expect(opened.storage.applied.index).to.be.at.least(appliedAtHold + 50)
    expect(opened.storage.snapshot(0, 0).metadata.index, 'the held build has not recorded its snapshot').to.equal(before)
    expect(logs.events('snapshot-created')).to.have.length(0)

    gate.release()
    await until('the snapshot to be recorded', () => logs.events('snapshot-created').length > 0)
    const meta = opened.storage.snapshot(0, 0).metadata
    expect(meta.index).to.be.greaterThan(before)
    expect(meta.index).to.be.at.most(appliedAtHold)
    const file = await inspectSnapshotFile(opened.storage.snapshotPath(meta), {keys: 1000})
    const keys = file.firstKeys.map(dec)
    expect(file.keyCount).to.be.greaterThan(20)
    expect(keys, 'exactly the writes applied before the build started, nothing applied after').to.deep.equal(
      Array.from({length: file.keyCount}, (_, i) => `before/${String(i).padStart(2, '0')}`))
    expect(fatal).to.deep.equal([])
  })
})
