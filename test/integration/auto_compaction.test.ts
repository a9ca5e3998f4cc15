/**
 * Auto-compaction end to end with real nodes: in revision mode the leader proposes a compaction
 * to revision - N and every member applies the same one (reads below it fail as compacted on
 * each, reads at it still work); in periodic mode a single node compacts once its short
 * retention has passed.
 */
import {expect} from 'chai'
import {ClientError} from '../../src/client/index.js'
import {ensureBuilt, stopAll, TestCluster, waitFor} from './harness.js'

async function compactedAt(read: Promise<unknown>): Promise<boolean> {
  try {
    await read
    return false
  } catch (err) {
    if (err instanceof ClientError && err.codeName === 'OUT_OF_RANGE') return true
    throw err
  }
}

describe('integration: auto-compaction', function () {
  this.timeout(120_000)
  before(() => ensureBuilt())
  afterEach(async () => stopAll())

  it('revision mode: the leader compacts to revision - N and every member applies the same compaction', async () => {
    const tc = new TestCluster()
    await tc.bootstrap(3, ['--auto-compaction-mode', 'revision', '--auto-compaction-retention', '5', '--auto-compaction-check-interval', '200ms'])
    const c = tc.client()
    let last = 0
    for (let i = 0; i < 12; i++) last = (await c.put(`k${i % 3}`, `v${i}`)).header!.revision
    const target = last - 5
    for (const id of [1, 2, 3]) {
      const endpoint = tc.node(id).client
      await waitFor(`node ${id} to compact below revision ${target}`, () =>
        compactedAt(c.range('k0', {revision: target - 1, serializable: true, endpoint})), {timeoutMs: 30_000})
      const at = await c.range('k0', {revision: target, serializable: true, endpoint})
      expect(at.kvs, `node ${id} still reads at revision ${target}`).to.have.length(1)
    }
    const proposers = [1, 2, 3].filter((id) => tc.node(id).events('auto-compaction-done').length > 0)
    expect(proposers, 'only the leader proposed').to.have.length(1)
    const done = tc.node(proposers[0]).events('auto-compaction-done')
    expect(done.map((e) => e.revision)).to.include(target)
  })

  it('periodic mode: compacts once the retention has passed, to the revision of about one retention ago', async () => {
    const tc = new TestCluster()
    await tc.bootstrap(1, ['--auto-compaction-mode', 'periodic', '--auto-compaction-retention', '1s'])
    const c = tc.client()
    await c.put('p', '1')
    const second = (await c.put('p', '2')).header!.revision
    // Every second it compacts to the revision of about a second before: soon one at or past the second put.
    const revs = (): number[] => tc.node(1).events('auto-compaction-done').map((e) => e.revision as number)
    await waitFor('a periodic compaction past the writes', () => revs().some((r) => r >= second), {timeoutMs: 30_000})
    expect(revs(), 'compactions only move forward').to.deep.equal([...revs()].sort((a, b) => a - b))
    expect(await compactedAt(c.range('p', {revision: second - 1}))).to.equal(true)
    expect((await c.range('p', {revision: second})).kvs).to.have.length(1)
  })
})
