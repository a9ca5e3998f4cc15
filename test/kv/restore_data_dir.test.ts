/**
 * restoreDataDir: a backup file becomes a new data dir whose snapshot keeps the backup's keys,
 * revision, index and term, with the membership of --initial-cluster; identical on every node;
 * refused for non-empty dirs, bad members and damaged files, without leaving anything behind.
 */
import {expect} from 'chai'
import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import type {KeyValue} from '../../src/generated/etcd/mvccpb/kv.js'
import {encodeSnapshotFile, KvStore, type SnapshotRecord} from '../../src/kv/index.js'
import {parseInitialCluster, restoreDataDir, RestoreError} from '../../src/kv/restore_data_dir.js'
import {EMPTY_CONF_STATE} from '../../src/raft/types.js'
import {clusterIdFor, RaftStorage} from '../../src/storage/index.js'
import {TempDirs} from '../storage/helpers.js'
import {b, putRecords, rangeReq, s} from './helpers.js'

const KEYS: KeyValue[] = ['a', 'b/1', 'b/2'].map((k, i) => ({key: b(k), value: b(`v${i}`), createRevision: i + 1, modRevision: i + 4, version: 2, lease: 0n}))
const INITIAL = parseInitialCluster('3=127.0.0.1:3003,1=127.0.0.1:3001,2=127.0.0.1:3002')

/** A backup of cluster 77 at index 40, term 5, revision 9 compacted at 7, taken in a joint config with a learner. */
async function writeBackup(path: string): Promise<void> {
  async function* records(): AsyncGenerator<SnapshotRecord> { yield* putRecords(KEYS) }
  const parts: Uint8Array[] = []
  for await (const c of encodeSnapshotFile({
    metadata: {index: 40, term: 5, confState: {...EMPTY_CONF_STATE, voters: [7, 8], votersOutgoing: [7, 8, 9], learners: [10], autoLeave: true}},
    members: [7, 8, 9, 10].map((id) => ({id, name: `old${id}`, peerUrls: [`10.0.0.${id}:2380`], clientUrls: [`10.0.0.${id}:2379`]})),
    keyCount: KEYS.length, revision: 9, compactRevision: 7, clusterId: 77,
  }, records())) parts.push(c)
  writeFileSync(path, Buffer.concat(parts))
}

describe('restoreDataDir (offline snapshot restore)', () => {
  const tmp = new TempDirs()
  let root: string
  let backup: string

  beforeEach(async () => {
    root = tmp.make('raftctl-restore-')
    backup = join(root, 'backup.snap')
    await writeBackup(backup)
  })
  afterEach(() => tmp.cleanup())

  it('creates a data dir with the backup\'s keys and the new membership', async () => {
    const dir = join(root, 'n1')
    const r = await restoreDataDir({snapshotPath: backup, dataDir: dir, nodeId: 1, initialCluster: INITIAL})
    expect(r).to.deep.include({nodeId: 1, clusterId: clusterIdFor(INITIAL), sourceClusterId: 77, index: 40, term: 5, revision: 9, keyCount: 3})
    expect(r.voters).to.deep.equal([1, 2, 3])
    const rs = await RaftStorage.open(dir, {nodeId: 1, clusterId: clusterIdFor(INITIAL)})
    try {
      expect(rs.confState).to.deep.equal({...EMPTY_CONF_STATE, voters: [1, 2, 3]})
      expect(rs.members()).to.deep.equal([1, 2, 3].map((id) => ({id, name: `node${id}`, peerUrls: [`127.0.0.1:300${id}`], clientUrls: []})))
      expect(rs.applied).to.deep.equal({index: 40, term: 5})
      expect(rs.hardState).to.deep.include({term: 5, commit: 40, vote: 0})
      expect(rs.snapshot(0, 0).metadata).to.deep.equal({index: 40, term: 5, confState: rs.confState})
      const kv = await KvStore.open(rs)
      expect(kv.revision).to.equal(9)
      expect(kv.keyCount).to.equal(3)
      expect(kv.compactRevision, 'the history keeps its compact revision').to.equal(7)
      const got = await kv.range(rangeReq('\0', '\0'))
      expect(got.kvs.map((k) => [s(k.key), s(k.value), k.createRevision, k.modRevision, k.version]))
        .to.deep.equal(KEYS.map((k) => [s(k.key), s(k.value), k.createRevision, k.modRevision, k.version]))
      await kv.close()
    } finally {
      await rs.close()
    }
  })

  it('gives every node the identical snapshot file', async () => {
    const files = []
    for (const id of [1, 2, 3]) {
      const dir = join(root, `n${id}`)
      await restoreDataDir({snapshotPath: backup, dataDir: dir, nodeId: id, initialCluster: INITIAL})
      const snaps = readdirSync(join(dir, 'snap'))
      expect(snaps).to.have.length(1)
      files.push(readFileSync(join(dir, 'snap', snaps[0])))
    }
    expect(files[1].equals(files[0])).to.equal(true)
    expect(files[2].equals(files[0])).to.equal(true)
  })

  it('restores into an existing empty directory but refuses a non-empty one', async () => {
    const empty = join(root, 'empty')
    mkdirSync(empty)
    await restoreDataDir({snapshotPath: backup, dataDir: empty, nodeId: 2, initialCluster: INITIAL})
    expect(existsSync(join(empty, 'db'))).to.equal(true)
    const full = join(root, 'full')
    mkdirSync(full)
    writeFileSync(join(full, 'keep.txt'), 'x')
    const err = await restoreDataDir({snapshotPath: backup, dataDir: full, nodeId: 2, initialCluster: INITIAL}).catch((e: Error) => e)
    expect(err).to.be.instanceOf(RestoreError)
    expect((err as Error).message).to.equal(`--data-dir ${full} is not empty (1 entries); restore only into a new or empty directory`)
    expect(readdirSync(full)).to.deep.equal(['keep.txt'])
  })

  it('refuses an id outside --initial-cluster and a missing file', async () => {
    const dir = join(root, 'x')
    const e1 = await restoreDataDir({snapshotPath: backup, dataDir: dir, nodeId: 4, initialCluster: INITIAL}).catch((e: Error) => e)
    expect((e1 as Error).message).to.equal('--id 4 is not in --initial-cluster (members 3, 1, 2)')
    const e2 = await restoreDataDir({snapshotPath: join(root, 'none.snap'), dataDir: dir, nodeId: 1, initialCluster: INITIAL}).catch((e: Error) => e)
    expect((e2 as Error).message).to.equal(`snapshot file ${join(root, 'none.snap')} does not exist`)
    expect(existsSync(dir)).to.equal(false)
  })

  it('refuses a damaged backup before writing anything', async () => {
    const bytes = readFileSync(backup)
    const bad = join(root, 'bad.snap')
    bytes[bytes.length - 40] ^= 0xff
    writeFileSync(bad, bytes)
    const dir = join(root, 'y')
    const err = await restoreDataDir({snapshotPath: bad, dataDir: dir, nodeId: 1, initialCluster: INITIAL}).catch((e: Error) => e)
    expect((err as Error).message).to.match(/^snapshot file .*bad\.snap: (checksum mismatch|record \d+)/)
    expect(existsSync(dir)).to.equal(false)
    expect(readdirSync(root).filter((n) => n.includes('restoring'))).to.deep.equal([])
  })

  it('parses --initial-cluster and names what is wrong', () => {
    expect(parseInitialCluster('1=h1:2380, 2=http://h2:2380')).to.deep.equal([{id: 1, peerUrl: 'h1:2380'}, {id: 2, peerUrl: 'h2:2380'}])
    const msg = (t: string): string => { try { parseInitialCluster(t); return '' } catch (e) { return (e as Error).message } }
    expect(msg('')).to.equal('--initial-cluster: no members given')
    expect(msg('1=a:1,1=b:2')).to.equal('--initial-cluster: member id 1 appears twice')
    expect(msg('x=a:1')).to.equal('--initial-cluster: member id "x" is not a positive integer')
    expect(msg('0=a:1')).to.equal('--initial-cluster: member id "0" is not a positive integer')
    expect(msg('a:1')).to.equal('--initial-cluster: "a:1" is not id=host:port')
    expect(msg('1=nohost')).to.equal('--initial-cluster: member 1 "nohost" is not host:port (for example 127.0.0.1:2380)')
  })
})
