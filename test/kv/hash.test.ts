import {expect} from 'chai'
import {TempDirs} from '../storage/helpers.js'
import {putOp, TestNode} from './helpers.js'

describe('kv/hash (state hash of the key/value data)', function () {
  this.timeout(30_000)
  const tmp = new TempDirs()
  const nodes: TestNode[] = []
  const node = async (nodeId = 1, bootstrap = true): Promise<TestNode> => {
    const n = await TestNode.create(tmp.make('raftctl-hash-'), bootstrap ? {nodeId} : {nodeId, bootstrap: undefined})
    nodes.push(n)
    return n
  }
  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.close().catch(() => {})
    tmp.cleanup()
  })

  async function script(n: TestNode, last = 'c'): Promise<void> {
    await n.put('a', '1')
    await n.put('b', '2')
    await n.txn({success: [putOp('a', '3')]})
    await n.del('b')
    await n.put(last, '4')
  }

  it('is equal on two replicas that applied the same entries, and says which revision and index it covers', async () => {
    const [x, y] = [await node(1), await node(2)]
    await script(x)
    await script(y)
    const [hx, hy] = [await x.kv.hashKV(), await y.kv.hashKV()]
    expect(hx.digest).to.match(/^[0-9a-f]{64}$/)
    expect(hx).to.deep.equal({...hy})
    expect(hx.revision).to.equal(x.kv.revision)
    expect(hx.appliedIndex).to.equal(x.kv.appliedIndex)
  })

  it('differs when one key, one value or one key\'s history differs', async () => {
    const base = await node(1)
    await script(base)
    const otherKey = await node(2)
    await script(otherKey, 'd')
    const otherValue = await node(3)
    await script(otherValue)
    await otherValue.put('a', '9')
    await otherValue.put('a', '3') // same value again, but a newer mod revision and version
    const h = (await base.kv.hashKV()).hash
    expect((await otherKey.kv.hashKV()).hash).to.not.equal(h)
    expect((await otherValue.kv.hashKV()).hash).to.not.equal(h)
  })

  it('does not mistake a key boundary for part of a value (lengths are hashed)', async () => {
    const x = await node(1)
    await x.put('ab', 'c')
    const y = await node(2)
    await y.put('a', 'bc')
    expect((await x.kv.hashKV()).hash).to.not.equal((await y.kv.hashKV()).hash)
  })

  it('survives a reopen and a restore from a snapshot file unchanged', async () => {
    const x = await node(1)
    await script(x)
    const before = await x.kv.hashKV()
    await x.reopen()
    expect(await x.kv.hashKV()).to.deep.equal(before)
    const info = await x.kv.createSnapshot()
    const fresh = await node(5, false)
    await fresh.kv.restoreFromFile(info.path)
    expect((await fresh.kv.hashKV()).hash).to.equal(before.hash)
  })

  it('describes one consistent state while writes apply', async () => {
    const x = await node(1)
    await x.put('a', '0')
    const pending = x.kv.hashKV()
    const write = x.put('a', '1')
    const [h] = await Promise.all([pending, write])
    const y = await node(2)
    await y.put('a', '0')
    expect(h.hash).to.equal((await y.kv.hashKV()).hash)
    expect(h.revision).to.equal(2)
  })
})
