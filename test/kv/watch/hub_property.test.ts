/**
 * Property: whatever the interleaving of writes, watch creations (past, present or future start,
 * any range kind, filters, prev_kv), consumers reading at their own pace, cancellations,
 * catch-up rounds and states replaced by a snapshot (resync), and with bounds small enough that watchers are set aside and chunks are
 * short, every watcher receives exactly the events of its range from its start revision, in
 * order, each once, in items whose revision never goes back and always covers what came before.
 * With compactions mixed in, a watcher may instead end with `compacted` after a whole-revision
 * prefix of what it would have received.
 */
import {expect} from 'chai'
import fc from 'fast-check'
import type {Event} from '../../../src/generated/etcd/mvccpb/kv.js'
import {WatchHub, type WatchHubOptions} from '../../../src/kv/watch/hub.js'
import {rangeHas} from '../../../src/kv/watch/matcher.js'
import {ITEM_OVERHEAD, type WatchItem, type Watcher, type WatchSpec} from '../../../src/kv/watch/watcher.js'
import {FakeSource, type Op, s} from './fake_source.js'
import {renderEvent, spec} from './helpers.js'

const KEYS = ['a', 'ab', 'b', 'c']
const keyArb = fc.constantFrom(...KEYS)

const writeArb: fc.Arbitrary<Op[]> = fc.array(fc.oneof(
  fc.record({put: keyArb, value: fc.constantFrom('', 'x', 'y'.repeat(60))}),
  fc.record({del: keyArb}),
  fc.record({del: fc.constant('a'), end: fc.constantFrom('b', 'c')}),
), {minLength: 1, maxLength: 3})

interface WatchCmd {
  readonly range: {key: string, end: string | null | undefined}
  readonly start: number
  readonly prevKv: boolean
  readonly noPut: boolean
  readonly noDelete: boolean
}

const watchArb: fc.Arbitrary<WatchCmd> = fc.record({
  range: fc.oneof(
    keyArb.map((k) => ({key: k, end: undefined as string | null | undefined})),
    keyArb.map((k) => ({key: k, end: null})),
    fc.constant({key: 'a', end: 'b'}),
  ),
  start: fc.oneof(fc.constant(0), fc.integer({min: -20, max: 3})),
  prevKv: fc.boolean(),
  noPut: fc.boolean(),
  noDelete: fc.boolean(),
})

type Cmd =
  | {write: Op[]}
  | {watch: WatchCmd}
  | {take: number, n: number}
  | {turns: number}
  | {cancel: number}
  | {compactBack: number}
  | {restore: Op[][]}

const cmdArb = (withCompaction: boolean): fc.Arbitrary<Cmd> => fc.oneof(
  {arbitrary: fc.record({write: writeArb}), weight: 6},
  {arbitrary: fc.record({watch: watchArb}), weight: 2},
  {arbitrary: fc.record({take: fc.nat(), n: fc.integer({min: 1, max: 4})}), weight: 3},
  {arbitrary: fc.record({turns: fc.integer({min: 1, max: 3})}), weight: 2},
  {arbitrary: fc.record({cancel: fc.nat()}), weight: 1},
  {arbitrary: fc.record({compactBack: fc.integer({min: 0, max: 6})}), weight: withCompaction ? 1 : 0},
  {arbitrary: fc.record({restore: fc.array(writeArb, {minLength: 1, maxLength: 3})}), weight: 1},
)

type Opts = Required<WatchHubOptions>

const optsArb: fc.Arbitrary<Opts> = fc.record({
  maxPendingBytes: fc.integer({min: 200, max: 3000}),
  maxBatchBytes: fc.integer({min: 150, max: 2000}),
  chunkRevisions: fc.integer({min: 1, max: 5}),
  chunkBytes: fc.integer({min: 100, max: 5000}),
  maxWatchersPerRound: fc.integer({min: 1, max: 4}),
})

interface Tracked {
  readonly w: Watcher
  readonly spec: WatchSpec
  readonly items: WatchItem[]
  canceled: boolean
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** What `t` must receive: every logged event of its range from its start revision, filtered. */
function expected(src: FakeSource, t: Tracked): string[] {
  const out: string[] = []
  for (const {revision, events} of src.log) {
    if (revision < t.w.startRevision) continue
    for (const e of events) {
      if (!rangeHas(t.spec.range, s(e.kv!.key))) continue
      if (e.type === 0 ? t.spec.noPut : t.spec.noDelete) continue
      out.push(renderEvent(t.spec.prevKv ? e : {...e, prevKv: undefined} as Event))
    }
  }
  return out
}

/** Items never go back in revision, and an item's events all come after the previous item's revision. */
function checkItems(t: Tracked): void {
  let covered = 0
  for (const [i, item] of t.items.entries()) {
    if (item.kind !== 'events') {
      expect(i, 'a terminal item is last').to.equal(t.items.length - 1)
      continue
    }
    expect(item.revision).to.be.at.least(covered)
    for (const e of item.events) {
      expect(e.kv!.modRevision).to.be.above(covered)
      expect(e.kv!.modRevision).to.be.at.most(item.revision)
    }
    covered = item.revision
  }
}

async function run(opts: Opts, cmds: Cmd[]): Promise<void> {
  const src = new FakeSource()
  const hub = new WatchHub(src, opts)
  src.hub = hub
  const tracked: Tracked[] = []
  const take = (t: Tracked, n = Infinity): void => {
    for (let i = 0; i < n; i++) {
      const item = t.w.take()
      if (item === undefined) break
      t.items.push(item)
    }
  }
  for (const c of cmds) {
    if ('write' in c) src.txn(c.write)
    else if ('watch' in c) {
      const start = c.watch.start <= 0 ? 0 : Math.min(src.revision + 3, Math.max(1, src.revision - c.watch.start))
      const sp = spec(c.watch.range.key, c.watch.range.end, start, c.watch)
      tracked.push({w: hub.watch(sp), spec: sp, items: [], canceled: false})
    } else if ('take' in c) {
      if (tracked.length > 0) take(tracked[c.take % tracked.length], c.n)
    } else if ('turns' in c) {
      for (let i = 0; i < c.turns; i++) await turn()
    } else if ('cancel' in c) {
      const t = tracked[c.cancel % Math.max(1, tracked.length)]
      if (t !== undefined) {
        t.w.cancel()
        t.canceled = true
      }
    } else if ('restore' in c) {
      // A snapshot replaced the state: its revisions were never published.
      src.restoreWrites(c.restore)
      hub.resync()
    } else {
      src.compact(Math.max(src.compactRevision, src.revision - c.compactBack))
    }
    for (const t of tracked) {
      // The bound holds unless a single item is queued; the terminal item comes on top of it.
      const terminal = t.w.state === 'done' && t.w.pendingItems > 0 ? 1 : 0
      if (t.w.pendingItems - terminal > 1) expect(t.w.pendingBytes - terminal * ITEM_OVERHEAD).to.be.at.most(t.w.limit)
    }
  }
  // Every consumer now reads everything; bounded.
  for (let i = 0; i < 20_000; i++) {
    for (const t of tracked) take(t)
    if (hub.idle && tracked.every((t) => t.w.pendingItems === 0)) break
    await turn()
  }
  expect(hub.idle, 'the hub settles').to.equal(true)
  for (const t of tracked) {
    if (t.canceled) continue
    checkItems(t)
    const got = t.items.flatMap((i) => (i.kind === 'events' ? i.events.map(renderEvent) : []))
    const want = expected(src, t)
    const last = t.items.at(-1)
    if (last?.kind === 'compacted') {
      expect(want.slice(0, got.length), 'a compacted watcher got a prefix').to.deep.equal(got)
      expect(last.compactRevision).to.be.at.most(src.compactRevision)
    } else {
      expect(got).to.deep.equal(want)
      expect(t.w.state).to.equal('synced')
    }
  }
}

describe('kv/watch/hub (property)', function () {
  this.timeout(120_000)

  it('delivers to each watcher exactly the events of its range from its start, in order, once', async () => {
    await fc.assert(fc.asyncProperty(optsArb, fc.array(cmdArb(false), {minLength: 20, maxLength: 80, size: 'max'}), run), {numRuns: 150})
  })

  it('with compactions, a watcher gets everything or a whole-revision prefix and then compacted', async () => {
    await fc.assert(fc.asyncProperty(optsArb, fc.array(cmdArb(true), {minLength: 20, maxLength: 80, size: 'max'}), run), {numRuns: 150})
  })
})
