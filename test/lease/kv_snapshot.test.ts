/**
 * Leases in snapshots and across stores (real RocksDB): a snapshot file carries every lease with
 * its attached keys and `snapshot inspect` counts them; a restore (Raft snapshot, backup file,
 * offline restore into a new data dir) keeps them; a damaged lease section changes nothing; two
 * stores that applied the same entries agree (hashKV, lease records); opening a data dir checks
 * that the attached keys exist with their lease.
 */
import {expect} from 'chai'
import {join} from 'node:path'
import {LeaseSnapshotItem} from '../../src/generated/raftctl/v1/lease_internal.js'
import {
  encodeSnapshotFile, fileChunks, inspectSnapshotFile, parseSnapshot, SnapshotFileError, type SnapshotRecord, verifySnapshot,
  writeFileAtomic,
} from '../../src/kv/index.js'
import {parseInitialCluster, restoreDataDir} from '../../src/kv/restore_data_dir.js'
import {attachmentKey, LeaseStore, openStateMachine} from '../../src/lease/index.js'
import {leaseIdBytes} from '../../src/lease/records.js'
import {clusterIdFor, RaftStorage, StorageCorruptError} from '../../src/storage/index.js'
import {rejects, TempDirs} from '../storage/helpers.js'
import {b, TestNode} from '../kv/helpers.js'
import {attachments, checkpoint, grant, leaseRecords, liveKeys, putLease, revoke} from './kv_node.js'

/** Leases 7 (keys a, b, checkpointed) and -5 (key c), a key without lease, lease 9 revoked with its key. */
async function fill(n: TestNode): Promise<void> {
  const g7 = await grant(n, 7n, 900)
  await grant(n, -5n, 20)
  await grant(n, 9n, 20)
  await putLease(n, 'a', '1', 7n)
  await putLease(n, 'b', '1', 7n)
  await putLease(n, 'c', '1', -5n)
  await putLease(n, 'gone', '1', 9n)
  await n.put('plain', '1')
  await checkpoint(n, [{ID: 7n, remainingTTL: 600, grantedIndex: g7.index}])
  await revoke(n, 9n)
}

describe('lease: leases in snapshots and across stores', function () {
  this.timeout(60_000)
  const tmp = new TempDirs()
  const nodes: TestNode[] = []
  const node = async (nodeId = 1): Promise<TestNode> => {
    const n = await TestNode.create(tmp.make('raftctl-lease-snap-'), {nodeId})
    nodes.push(n)
    return n
  }
  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.close().catch(() => {})
    tmp.cleanup()
  })

  it('round-trips leases through a snapshot file: inspect counts them, a restore replaces the receiver\'s leases with them', async () => {
    const a = await node(1)
    await fill(a)
    const info = await a.kv.createSnapshot()
    expect((await inspectSnapshotFile(info.path)).leaseCount).to.equal(2)
    const bn = await node(2)
    await grant(bn, 100n)
    await putLease(bn, 'mine', '1', 100n)
    await bn.kv.restoreFromFile(info.path)
    expect(await leaseRecords(bn)).to.deep.equal(await leaseRecords(a))
    expect(attachments(bn)).to.deep.equal({'-5': ['c'], 7: ['a', 'b']})
    expect(bn.leases.get(7n)).to.deep.equal(a.leases.get(7n))
    expect(await liveKeys(bn)).to.deep.equal(await liveKeys(a))
    expect(await bn.kv.hashKV()).to.deep.equal(await a.kv.hashKV())
    await bn.reopen()
    expect(attachments(bn), 'the restored leases are on disk').to.deep.equal({'-5': ['c'], 7: ['a', 'b']})
    await revoke(bn, 7n)
    expect((await liveKeys(bn)).map(([k]) => k)).to.deep.equal(['c', 'plain'])
  })

  it('tells the lease listeners of a restore', async () => {
    const a = await node(1)
    await fill(a)
    const info = await a.kv.createSnapshot()
    const bn = await node(2)
    let restored = 0
    bn.leases.listen({applied: () => {}, restored: () => { restored += 1 }})
    await bn.kv.restoreFromFile(info.path)
    expect(restored).to.equal(1)
  })

  it('refuses a lease section that does not match its header or holds a bad item, and changes nothing', async () => {
    const a = await node(1)
    await fill(a)
    const info = await a.kv.createSnapshot()
    const header = (await verifySnapshot(fileChunks(info.path), info.path)).header
    const records: SnapshotRecord[] = []
    const items: Uint8Array[] = []
    for await (const item of parseSnapshot(fileChunks(info.path), info.path)) {
      if (item.kind === 'record') records.push(item.raw)
      if (item.kind === 'lease') items.push(item.raw)
    }
    const write = async (name: string, leaseCount: number, leaseItems: Uint8Array[]): Promise<string> => {
      const path = join(a.dir, name)
      await writeFileAtomic(path, encodeSnapshotFile({...header, leaseCount}, (async function* () { yield* records })(), leaseItems))
      return path
    }
    const bn = await node(2)
    await grant(bn, 100n)
    const before = await leaseRecords(bn)
    const miscounted = await write('miscounted.snap', 3, items)
    expect(await rejects(inspectSnapshotFile(miscounted))).to.be.instanceOf(SnapshotFileError)
      .with.property('message').that.matches(/the lease section holds 2 leases, but the header says 3/)
    const keyFirst = LeaseSnapshotItem.encode({ID: leaseIdBytes(7n), key: b('a')}).finish()
    const bad = await write('bad.snap', 2, [keyFirst, ...items])
    const e = await rejects(bn.kv.restoreFromFile(bad))
    expect(e).to.be.instanceOf(SnapshotFileError)
    expect(e.message).to.match(/lease item 1 of the snapshot: a key is attached to lease 7, which has no lease record before it/)
    expect(await leaseRecords(bn)).to.deep.equal(before)
    expect(bn.rs.applied.index).to.equal(1)
  })

  it('keeps the leases in an offline restore into a new data dir', async () => {
    const a = await node(1)
    await fill(a)
    const info = await a.kv.createSnapshot()
    const initialCluster = parseInitialCluster('1=127.0.0.1:3001')
    const dataDir = join(tmp.make('raftctl-lease-restore-'), 'n1')
    const r = await restoreDataDir({snapshotPath: info.path, dataDir, nodeId: 1, initialCluster, leases: LeaseStore.openOn})
    expect(r.leaseCount).to.equal(2)
    const rs = await RaftStorage.open(dataDir, {nodeId: 1, clusterId: clusterIdFor(initialCluster)})
    try {
      const {kv, leases} = await openStateMachine(rs)
      expect(leases.ids()).to.deep.equal([-5n, 7n])
      expect(leases.keysOf(7n).map((k) => Buffer.from(k).toString())).to.deep.equal(['a', 'b'])
      expect(leases.get(7n)!.remainingTtl).to.equal(600)
      await kv.close()
    } finally {
      await rs.close()
    }
    const without = join(tmp.make('raftctl-lease-restore-'), 'n1')
    const e = await rejects(restoreDataDir({snapshotPath: info.path, dataDir: without, nodeId: 1, initialCluster}))
    expect(e.message, 'without lease hooks a backup with leases is refused, not restored without them').to.match(/opened without lease hooks/)
  })

  it('gives two stores that applied the same entries the same hashKV and lease records', async () => {
    const a = await node(1)
    const c = await node(1)
    for (const n of [a, c]) {
      await fill(n)
      await grant(n, 11n)
      await n.txn({success: [{requestPut: {key: b('t'), value: b('v'), lease: 11n, prevKv: false, ignoreValue: false, ignoreLease: false}}]})
      await revoke(n, -5n)
    }
    expect(await c.kv.hashKV()).to.deep.equal(await a.kv.hashKV())
    expect(await leaseRecords(c)).to.deep.equal(await leaseRecords(a))
    expect(await liveKeys(c)).to.deep.equal(await liveKeys(a))
  })

  it('refuses to open a data dir whose lease attaches a key that does not exist or has another lease', async () => {
    const a = await node(1)
    await fill(a)
    await a.rs.db.write([{type: 'put', key: attachmentKey(7n, b('plain')), value: new Uint8Array(0)}], {sync: true})
    const e = await rejects(a.reopen())
    expect(e).to.be.instanceOf(StorageCorruptError)
    expect(e.message).to.match(/record "L\/" \+ id 0x0000000000000007 \+ key 0x706c61696e is corrupt: the key carries lease 0/)
    nodes.splice(nodes.indexOf(a), 1)
    await a.rs.close()
    const rs = await RaftStorage.open(a.dir)
    await rs.db.write([
      {type: 'del', key: attachmentKey(7n, b('plain'))}, {type: 'put', key: attachmentKey(7n, b('nokey')), value: new Uint8Array(0)},
    ], {sync: true})
    expect((await rejects(openStateMachine(rs))).message).to.match(/the attached key does not exist/)
    await rs.close()
  })
})
