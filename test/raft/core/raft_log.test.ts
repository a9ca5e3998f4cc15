// Unit tests of RaftLog, ported from etcd-io/raft log_test.go.
import {expect} from 'chai'
import {CompactedError, RaftInvariantError, UnavailableError} from '../../../src/raft/errors.js'
import {MemoryStorage} from '../../../src/raft/memory_storage.js'
import {RaftLog} from '../../../src/raft/raft_log.js'
import type {Entry} from '../../../src/raft/types.js'
import {ent, ents, entsFrom, ids, snap} from './helpers.js'

/** A log whose storage holds `stored` after a snapshot at (snapIndex, snapTerm). */
function logWith(stored: Entry[], snapIndex = 0, snapTerm = 0): RaftLog {
  const st = new MemoryStorage()
  if (snapIndex > 0) st.applySnapshot(snap(snapIndex, snapTerm))
  st.append(stored)
  return new RaftLog(st)
}

describe('RaftLog (etcd log.go)', () => {
  const prev = ents([1, 1], [2, 2], [3, 3])

  it('findConflict returns the first entry whose term differs or that is new', () => {
    const cases: Array<[Entry[], number]> = [
      [[], 0],
      [ents([1, 1], [2, 2], [3, 3]), 0],
      [ents([2, 2], [3, 3]), 0],
      [ents([3, 3]), 0],
      [ents([1, 1], [2, 2], [3, 3], [4, 4], [5, 4]), 4],
      [ents([2, 2], [3, 3], [4, 4], [5, 4]), 4],
      [ents([3, 3], [4, 4], [5, 4]), 4],
      [ents([4, 4], [5, 4]), 4],
      [ents([1, 4], [2, 4]), 1],
      [ents([2, 1], [3, 4], [4, 4]), 2],
      [ents([3, 1], [4, 2], [5, 4], [6, 4]), 3],
    ]
    for (const [es, want] of cases) {
      const l = logWith([])
      l.append(prev)
      expect(l.findConflict(es)).to.equal(want)
    }
  })

  it('findConflictByTerm finds the largest index <= index with term <= term (fast back-off, §5.3)', () => {
    // [snapshot index, snapshot term, terms after it..., query index, query term, want index]
    const cases: Array<[number, number, number[], number, number, number]> = [
      [0, 0, [2, 2, 5, 5, 5], 100, 2, 100], // unavailable
      [0, 0, [2, 2, 5, 5, 5], 5, 6, 5],
      [0, 0, [2, 2, 5, 5, 5], 5, 5, 5],
      [0, 0, [2, 2, 5, 5, 5], 5, 4, 2],
      [0, 0, [2, 2, 5, 5, 5], 5, 2, 2],
      [0, 0, [2, 2, 5, 5, 5], 5, 1, 0],
      [0, 0, [2, 2, 5, 5, 5], 1, 2, 1],
      [0, 0, [2, 2, 5, 5, 5], 1, 1, 0],
      [0, 0, [2, 2, 5, 5, 5], 0, 0, 0],
      [10, 3, [3, 3, 4, 4, 4], 30, 3, 30], // unavailable
      [10, 3, [3, 3, 4, 4, 4], 14, 9, 14],
      [10, 3, [3, 3, 4, 4, 4], 14, 4, 14],
      [10, 3, [3, 3, 4, 4, 4], 14, 3, 12],
      [10, 3, [3, 3, 4, 4, 4], 14, 2, 9],
      [10, 3, [3, 3, 4, 4, 4], 11, 5, 11],
      [10, 3, [3, 3, 4, 4, 4], 10, 5, 10],
      [10, 3, [3, 3, 4, 4, 4], 10, 3, 10],
      [10, 3, [3, 3, 4, 4, 4], 10, 2, 9],
      [10, 3, [3, 3, 4, 4, 4], 9, 2, 9], // compacted
      [10, 3, [3, 3, 4, 4, 4], 4, 2, 4], // compacted
      [10, 3, [3, 3, 4, 4, 4], 0, 0, 0],
    ]
    for (const [si, stt, terms, index, term, want] of cases) {
      const l = logWith([], si, stt)
      l.append(entsFrom(si + 1, ...terms))
      const [gotIndex, gotTerm] = l.findConflictByTerm(index, term)
      expect(gotIndex, `case ${si}/${index}/${term}`).to.equal(want)
      expect(gotTerm).to.equal(l.termOrZero(gotIndex))
    }
  })

  it('isUpToDate compares last terms, then lengths (§5.4.1)', () => {
    const l = logWith([])
    l.append(prev)
    const li = l.lastIndex()
    const cases: Array<[number, number, boolean]> = [
      [li - 1, 4, true], [li, 4, true], [li + 1, 4, true],
      [li - 1, 2, false], [li, 2, false], [li + 1, 2, false],
      [li - 1, 3, false], [li, 3, true], [li + 1, 3, true],
    ]
    for (const [i, t, want] of cases) expect(l.isUpToDate(i, t)).to.equal(want)
  })

  it('append truncates conflicting unstable and stable entries', () => {
    const cases: Array<[Entry[], number, Array<[number, number]>, number]> = [
      [[], 2, [[1, 1], [2, 2]], 3],
      [ents([3, 2]), 3, [[1, 1], [2, 2], [3, 2]], 3],
      [ents([1, 2]), 1, [[1, 2]], 1],
      [ents([2, 3], [3, 3]), 3, [[1, 1], [2, 3], [3, 3]], 2],
    ]
    for (const [es, wIndex, wEnts, wUnstable] of cases) {
      const l = logWith(ents([1, 1], [2, 2]))
      expect(l.append(es)).to.equal(wIndex)
      expect(ids(l.entries(1, Infinity))).to.deep.equal(wEnts)
      expect(l.unstable.offset).to.equal(wUnstable)
    }
  })

  it('append refuses to truncate committed entries', () => {
    const l = logWith(ents([1, 1], [2, 2]))
    l.commitTo(2)
    expect(() => l.append(ents([2, 3]))).to.throw(RaftInvariantError, /committed/)
  })

  describe('maybeAppend (§5.3 consistency check)', () => {
    const li = 3
    const lt = 3
    // [logTerm, index, committed, ents, want lastNewI (undefined = rejected), want commit, panics]
    const cases: Array<[number, number, number, Entry[], number | undefined, number, boolean]> = [
      [lt - 1, li, li, ents([li + 1, 4]), undefined, 1, false], // term mismatch
      [lt, li + 1, li, ents([li + 2, 4]), undefined, 1, false], // index out of bound
      [lt, li, li, [], li, li, false],
      [lt, li, li + 1, [], li, li, false], // commit no higher than the last new entry
      [lt, li, li - 1, [], li, li - 1, false],
      [lt, li, 0, [], li, 1, false], // commit never decreases
      [0, 0, li, [], 0, 1, false],
      [lt, li, li, ents([li + 1, 4]), li + 1, li, false],
      [lt, li, li + 1, ents([li + 1, 4]), li + 1, li + 1, false],
      [lt, li, li + 2, ents([li + 1, 4]), li + 1, li + 1, false],
      [lt, li, li + 2, ents([li + 1, 4], [li + 2, 4]), li + 2, li + 2, false],
      [lt - 1, li - 1, li, ents([li, 4]), li, li, false], // match in the middle
      [lt - 2, li - 2, li, ents([li - 1, 4]), li - 1, li - 1, false],
      [lt - 3, li - 3, li, ents([li - 2, 4]), li - 2, li - 2, true], // conflicts with committed
      [lt - 2, li - 2, li, ents([li - 1, 4], [li, 4]), li, li, false],
    ]
    cases.forEach(([logTerm, index, committed, es, want, wCommit, panics], i) => {
      it(`case ${i}`, () => {
        const l = logWith([])
        l.append(prev)
        l.commitTo(1)
        if (panics) {
          expect(() => l.maybeAppend(index, logTerm, committed, es)).to.throw(RaftInvariantError)
          return
        }
        expect(l.maybeAppend(index, logTerm, committed, es)).to.equal(want)
        expect(l.committed).to.equal(wCommit)
        if (want !== undefined && es.length > 0) {
          expect(ids(l.slice(l.lastIndex() - es.length + 1, l.lastIndex() + 1, Infinity))).to.deep.equal(ids(es))
        }
      })
    })
  })

  describe('committed entries', () => {
    // Snapshot at 3, entry 4 stable, 5 and 6 unstable, committed 5.
    function setup(applied: number, applying: number): RaftLog {
      const l = logWith(ents([4, 1]), 3, 1)
      l.append(ents([4, 1], [5, 1], [6, 1]))
      l.stableTo(4, 1)
      l.maybeCommit(5, 1)
      l.appliedTo(applied)
      l.acceptApplying(applying)
      return l
    }
    const cases: Array<[number, number, boolean, number[]]> = [
      [3, 3, true, [4, 5]], [3, 4, true, [5]], [3, 5, true, []], [4, 4, true, [5]], [4, 5, true, []],
      [5, 5, true, []],
      [3, 3, false, [4]], [3, 4, false, []], [3, 5, false, []], [4, 4, false, []], [5, 5, false, []],
    ]
    for (const [applied, applying, allowUnstable, want] of cases) {
      it(`applied=${applied} applying=${applying} allowUnstable=${allowUnstable} -> [${want}]`, () => {
        const l = setup(applied, applying)
        expect(l.hasNextCommittedEnts(allowUnstable)).to.equal(want.length > 0)
        expect(l.nextCommittedEnts(allowUnstable).map((e) => e.index)).to.deep.equal(want)
      })
    }

    it('none while a snapshot is pending', () => {
      const l = setup(3, 3)
      l.restore(snap(7, 1))
      expect(l.hasNextCommittedEnts(true)).to.equal(false)
      expect(l.nextCommittedEnts(true)).to.deep.equal([])
    })

    it('hands out at most maxCommittedSizePerReady bytes at once, at least one entry (etcd MaxCommittedSizePerReady)', () => {
      const st = new MemoryStorage()
      st.append([1, 2, 3, 4, 5, 6].map((i) => ent(i, 1, 'x'.repeat(i === 4 ? 25 : 10))))
      const l = new RaftLog(st, 25)
      l.append([ent(7, 1, 'y'.repeat(10))])
      l.maybeCommit(7, 1)
      const pages: number[][] = []
      for (let i = 0; i < 10 && l.hasNextCommittedEnts(true); i++) {
        const page = l.nextCommittedEnts(true)
        pages.push(page.map((e) => e.index))
        l.acceptApplying(page[page.length - 1].index)
        l.appliedTo(page[page.length - 1].index)
      }
      // 10 + 10 fit, a third would not; entry 4 (25 bytes) fills a page alone; 5 and 6 from
      // storage fit together and entry 7 (unstable) would pass the limit.
      expect(pages).to.deep.equal([[1, 2], [3], [4], [5, 6], [7]])
      const one = new RaftLog(st, 5)
      one.maybeCommit(6, 1)
      expect(one.nextCommittedEnts(true).map((e) => e.index), 'an entry larger than the limit still comes alone').to.deep.equal([1])
    })

    it('appliedTo refuses indexes beyond committed or below applied', () => {
      const l = setup(4, 4)
      expect(() => l.appliedTo(6)).to.throw(RaftInvariantError)
      expect(() => l.appliedTo(3)).to.throw(RaftInvariantError)
    })
  })

  it('commitTo never decreases and refuses to pass the last index', () => {
    const l = logWith([])
    l.append(prev)
    l.commitTo(2)
    l.commitTo(1)
    expect(l.committed).to.equal(2)
    l.commitTo(3)
    expect(l.committed).to.equal(3)
    expect(() => l.commitTo(4)).to.throw(RaftInvariantError, /out of range/)
  })

  it('maybeCommit commits only entries of the given term (§5.4.2)', () => {
    const l = logWith([])
    l.append(ents([1, 1], [2, 2]))
    expect(l.maybeCommit(2, 1)).to.equal(false)
    expect(l.maybeCommit(2, 0)).to.equal(false)
    expect(l.maybeCommit(2, 2)).to.equal(true)
    expect(l.committed).to.equal(2)
    expect(l.maybeCommit(Infinity, 2)).to.equal(false)
  })

  it('stableTo and unstable entries', () => {
    const l = logWith(ents([1, 1], [2, 2]))
    l.append(ents([3, 3], [4, 3]))
    expect(ids(l.nextUnstableEnts())).to.deep.equal([[3, 3], [4, 3]])
    l.acceptUnstable()
    expect(l.hasNextUnstableEnts()).to.equal(false)
    expect(l.hasNextOrInProgressUnstableEnts()).to.equal(true)
    l.stableTo(4, 3)
    expect(l.unstable.offset).to.equal(5)
    expect(l.hasNextOrInProgressUnstableEnts()).to.equal(false)
  })

  it('term answers [firstIndex-1, lastIndex] and throws typed errors outside (etcd TestTerm)', () => {
    const offset = 100
    const num = 100
    const l = logWith([], offset, 1)
    for (let i = 1; i < num; i++) l.append([ent(offset + i, i)])
    expect(() => l.term(offset - 1)).to.throw(CompactedError)
    expect(l.term(offset)).to.equal(1)
    expect(l.term(offset + num / 2)).to.equal(num / 2)
    expect(l.term(offset + num - 1)).to.equal(num - 1)
    expect(() => l.term(offset + num)).to.throw(UnavailableError)
  })

  it('term knows the unstable snapshot (etcd TestTermWithUnstableSnapshot)', () => {
    const l = logWith([], 100, 1)
    l.restore(snap(105, 3))
    expect(() => l.term(99)).to.throw(CompactedError)
    expect(() => l.term(100)).to.throw(CompactedError)
    expect(l.term(105)).to.equal(3)
    expect(() => l.term(106)).to.throw(UnavailableError)
    expect(l.committed).to.equal(105)
    expect(l.firstIndex()).to.equal(106)
  })

  describe('slice spans storage and unstable with a size limit (etcd TestSlice)', () => {
    const offset = 100
    const num = 100
    const last = offset + num
    const half = offset + num / 2
    const data = '0123456789' // every entry is 10 bytes
    function setup(): RaftLog {
      const st = new MemoryStorage()
      st.applySnapshot(snap(offset, 0))
      const stored: Entry[] = []
      for (let i = offset + 1; i < half; i++) stored.push(ent(i, i, data))
      st.append(stored)
      const l = new RaftLog(st)
      const unstable: Entry[] = []
      for (let i = half; i < last; i++) unstable.push(ent(i, i, data))
      l.append(unstable)
      return l
    }
    const idx = (es: Entry[]): number[] => es.map((e) => e.index)

    it('throws CompactedError below the first index and panics beyond the last', () => {
      const l = setup()
      expect(() => l.slice(offset - 1, offset + 1, Infinity)).to.throw(CompactedError)
      expect(() => l.slice(offset, offset + 1, Infinity)).to.throw(CompactedError)
      expect(() => l.slice(last, last + 1, Infinity)).to.throw(RaftInvariantError)
    })

    it('returns ranges within storage, unstable or both', () => {
      const l = setup()
      expect(idx(l.slice(half - 1, half + 1, Infinity))).to.deep.equal([half - 1, half])
      expect(idx(l.slice(half, half + 1, Infinity))).to.deep.equal([half])
      expect(idx(l.slice(last - 1, last, Infinity))).to.deep.equal([last - 1])
      expect(idx(l.slice(offset + 1, offset + 3, Infinity))).to.deep.equal([offset + 1, offset + 2])
    })

    it('limits by size but returns at least one entry', () => {
      const l = setup()
      expect(idx(l.slice(half - 1, half + 1, 0))).to.deep.equal([half - 1])
      expect(idx(l.slice(half - 1, half + 1, 15))).to.deep.equal([half - 1])
      expect(idx(l.slice(half - 1, half + 1, 20))).to.deep.equal([half - 1, half])
      expect(idx(l.slice(half - 2, half + 1, 25))).to.deep.equal([half - 2, half - 1])
      expect(idx(l.slice(half - 2, half + 2, 30))).to.deep.equal([half - 2, half - 1, half])
      expect(idx(l.slice(half, half + 3, 20))).to.deep.equal([half, half + 1])
      expect(idx(l.slice(half, half + 3, 0))).to.deep.equal([half])
    })
  })

  it('restore resets committed, unstable and the first index (etcd TestLogRestore)', () => {
    const l = logWith([])
    l.restore(snap(1000, 1000))
    expect(l.allEntries()).to.deep.equal([])
    expect(l.firstIndex()).to.equal(1001)
    expect(l.committed).to.equal(1000)
    expect(l.unstable.offset).to.equal(1001)
    expect(l.term(1000)).to.equal(1000)
  })

  it('starts with committed = applied = firstIndex - 1 after compaction', () => {
    const st = new MemoryStorage()
    st.append(entsFrom(1, 1, 1, 1, 2, 2))
    st.compact(3)
    const l = new RaftLog(st)
    expect([l.firstIndex(), l.lastIndex(), l.committed, l.applied]).to.deep.equal([4, 5, 3, 3])
    expect(() => l.entries(3, Infinity)).to.throw(CompactedError)
    expect(ids(l.entries(4, Infinity))).to.deep.equal([[4, 2], [5, 2]])
  })
})
