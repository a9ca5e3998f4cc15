/**
 * Smoke test: the Raft core driven on RaftStorage + KvStore through the Ready loop, including a
 * restart from disk. (The simulated-network property tests on RocksDB are wired by the lead.)
 */
import {expect} from 'chai'
import {encodeInternalRequest, KvStore} from '../../src/kv/index.js'
import {RawNode, type Ready} from '../../src/raft/index.js'
import {EMPTY_CONF_STATE, EntryType} from '../../src/raft/types.js'
import {RaftStorage} from '../../src/storage/index.js'
import {TempDirs} from './helpers.js'

/** Handles every Ready the way the server does: persist, then apply, then advance. */
async function drain(node: RawNode, rs: RaftStorage, kv: KvStore): Promise<void> {
  while (node.hasReady()) {
    const rd: Ready = node.ready()
    await rs.persist({entries: rd.entries, hardState: rd.hardState, snapshot: rd.snapshot})
    for (const e of rd.committedEntries) {
      if (e.entryType === EntryType.EntryNormal) await kv.apply(e)
      else throw new Error('no conf changes in this test')
    }
    node.advance(rd)
  }
}

describe('storage/RaftStorage under a RawNode', () => {
  const tmp = new TempDirs()
  afterEach(() => tmp.cleanup())

  it('elects, commits and applies on RocksDB, and restarts from disk', async () => {
    const dir = tmp.make()
    const cfg = {id: 1, electionTick: 10, heartbeatTick: 1}
    let rs = await RaftStorage.open(dir, {clusterId: 3, nodeId: 1, create: true, bootstrap: {confState: {...EMPTY_CONF_STATE, voters: [1]}}})
    let kv = await KvStore.open(rs)
    let node = new RawNode(cfg, rs)
    node.campaign()
    await drain(node, rs, kv)
    const put = (k: string, i: number) => encodeInternalRequest({id: i, put: {key: new TextEncoder().encode(k), value: new Uint8Array([i]), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false}})
    for (let i = 1; i <= 5; i++) {
      node.propose(put(`k${i}`, i))
      await drain(node, rs, kv)
    }
    expect(kv.revision).to.equal(6)
    const applied = rs.applied.index
    expect(applied).to.equal(rs.lastIndex())
    await kv.close()
    await rs.close()

    rs = await RaftStorage.open(dir, {clusterId: 3, nodeId: 1})
    kv = await KvStore.open(rs)
    node = new RawNode({...cfg, applied: rs.applied.index}, rs)
    expect(rs.hardState.commit).to.equal(applied)
    node.campaign()
    await drain(node, rs, kv)
    node.propose(put('k6', 6))
    await drain(node, rs, kv)
    expect(kv.revision).to.equal(7)
    expect(kv.keyCount).to.equal(6)
    await kv.close()
    await rs.close()
  })
})
