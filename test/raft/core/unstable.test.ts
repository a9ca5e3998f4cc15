// Unit tests of the unstable log, ported from etcd-io/raft log_unstable_test.go.
import {expect} from 'chai'
import {RaftInvariantError} from '../../../src/raft/errors.js'
import {Unstable} from '../../../src/raft/log_unstable.js'
import type {Entry, Snapshot} from '../../../src/raft/types.js'
import {entsFrom, ids, snap} from './helpers.js'

function unstable(offset: number, entries: Entry[], s?: Snapshot, inProgress = offset): Unstable {
  const u = new Unstable(offset)
  u.entries = entries
  u.snapshot = s
  u.offsetInProgress = inProgress
  return u
}

describe('Unstable (etcd log_unstable.go)', () => {
  it('maybeFirstIndex is the snapshot index + 1 only when there is a snapshot', () => {
    expect(unstable(5, entsFrom(5, 1)).maybeFirstIndex()).to.equal(undefined)
    expect(unstable(0, []).maybeFirstIndex()).to.equal(undefined)
    expect(unstable(5, entsFrom(5, 1), snap(4, 1)).maybeFirstIndex()).to.equal(5)
    expect(unstable(5, [], snap(4, 1)).maybeFirstIndex()).to.equal(5)
  })

  it('maybeLastIndex comes from the entries, else the snapshot', () => {
    expect(unstable(5, entsFrom(5, 1)).maybeLastIndex()).to.equal(5)
    expect(unstable(5, entsFrom(5, 1), snap(4, 1)).maybeLastIndex()).to.equal(5)
    expect(unstable(5, [], snap(4, 1)).maybeLastIndex()).to.equal(4)
    expect(unstable(0, []).maybeLastIndex()).to.equal(undefined)
  })

  it('maybeTerm knows entries and the snapshot index only', () => {
    const cases: Array<[Unstable, number, number | undefined]> = [
      [unstable(5, entsFrom(5, 1)), 5, 1],
      [unstable(5, entsFrom(5, 1)), 6, undefined],
      [unstable(5, entsFrom(5, 1)), 4, undefined],
      [unstable(5, entsFrom(5, 1), snap(4, 1)), 5, 1],
      [unstable(5, entsFrom(5, 1), snap(4, 1)), 4, 1],
      [unstable(5, entsFrom(5, 1), snap(4, 1)), 3, undefined],
      [unstable(5, [], snap(4, 1)), 5, undefined],
      [unstable(5, [], snap(4, 1)), 4, 1],
      [unstable(0, []), 5, undefined],
    ]
    for (const [u, i, want] of cases) expect(u.maybeTerm(i)).to.equal(want)
  })

  it('restore replaces everything by the snapshot', () => {
    const u = unstable(5, entsFrom(5, 1), snap(4, 1), 6)
    const s = snap(6, 2)
    u.restore(s)
    expect(u.offset).to.equal(7)
    expect(u.offsetInProgress).to.equal(7)
    expect(u.entries).to.deep.equal([])
    expect(u.snapshot).to.equal(s)
    expect(u.snapshotInProgress).to.equal(false)
  })

  it('nextEntries skips entries already in progress; acceptInProgress marks them', () => {
    const u = unstable(5, entsFrom(5, 1, 1))
    expect(ids(u.nextEntries())).to.deep.equal([[5, 1], [6, 1]])
    u.acceptInProgress()
    expect(u.offsetInProgress).to.equal(7)
    expect(u.nextEntries()).to.deep.equal([])
    expect(unstable(5, entsFrom(5, 1, 1), undefined, 6).nextEntries().map((e) => e.index)).to.deep.equal([6])
  })

  it('nextSnapshot hides a snapshot in progress', () => {
    const u = unstable(5, [], snap(4, 1))
    expect(u.nextSnapshot()?.metadata.index).to.equal(4)
    u.acceptInProgress()
    expect(u.snapshotInProgress).to.equal(true)
    expect(u.nextSnapshot()).to.equal(undefined)
  })

  it('stableTo drops persisted entries only when the term still matches', () => {
    type Case = [Unstable, number, number, number, number, number]
    const cases: Case[] = [
      // unstable, index, term, want offset, want offsetInProgress, want len
      [unstable(0, []), 5, 1, 0, 0, 0],
      [unstable(5, entsFrom(5, 1), undefined, 6), 5, 1, 6, 6, 0],
      [unstable(5, entsFrom(5, 1, 1), undefined, 6), 5, 1, 6, 6, 1],
      [unstable(5, entsFrom(5, 1, 1), undefined, 7), 5, 1, 6, 7, 1],
      [unstable(6, entsFrom(6, 2), undefined, 7), 6, 1, 6, 7, 1], // term mismatch
      [unstable(5, entsFrom(5, 1), undefined, 6), 4, 1, 5, 6, 1], // stable to old entry
      [unstable(5, entsFrom(5, 1), undefined, 6), 4, 2, 5, 6, 1],
      [unstable(5, entsFrom(5, 1), snap(4, 1), 6), 5, 1, 6, 6, 0],
      [unstable(5, entsFrom(5, 1, 1), snap(4, 1), 6), 5, 1, 6, 6, 1],
      [unstable(6, entsFrom(6, 2), snap(5, 1), 7), 6, 1, 6, 7, 1],
      [unstable(5, entsFrom(5, 1), snap(4, 1), 6), 4, 1, 5, 6, 1], // stable to snapshot
      [unstable(5, entsFrom(5, 2), snap(4, 2), 6), 4, 1, 5, 6, 1],
    ]
    for (const [u, i, t, off, prog, len] of cases) {
      u.stableTo(i, t)
      expect([u.offset, u.offsetInProgress, u.entries.length]).to.deep.equal([off, prog, len])
    }
  })

  it('stableSnapTo drops only the matching snapshot', () => {
    const u = unstable(5, [], snap(4, 1))
    u.acceptInProgress()
    u.stableSnapTo(3)
    expect(u.snapshot).to.not.equal(undefined)
    u.stableSnapTo(4)
    expect(u.snapshot).to.equal(undefined)
    expect(u.snapshotInProgress).to.equal(false)
  })

  it('truncateAndAppend appends, replaces or truncates', () => {
    type Case = [Unstable, Entry[], number, number, Array<[number, number]>]
    const cases: Case[] = [
      // append to the end
      [unstable(5, entsFrom(5, 1)), entsFrom(6, 1, 1), 5, 5, [[5, 1], [6, 1], [7, 1]]],
      [unstable(5, entsFrom(5, 1), undefined, 6), entsFrom(6, 1, 1), 5, 6, [[5, 1], [6, 1], [7, 1]]],
      // replace the unstable entries
      [unstable(5, entsFrom(5, 1)), entsFrom(5, 2, 2), 5, 5, [[5, 2], [6, 2]]],
      [unstable(5, entsFrom(5, 1)), entsFrom(4, 2, 2, 2), 4, 4, [[4, 2], [5, 2], [6, 2]]],
      [unstable(5, entsFrom(5, 1), undefined, 6), entsFrom(5, 2, 2), 5, 5, [[5, 2], [6, 2]]],
      // truncate the existing entries and append
      [unstable(5, entsFrom(5, 1, 1, 1)), entsFrom(6, 2), 5, 5, [[5, 1], [6, 2]]],
      [unstable(5, entsFrom(5, 1, 1, 1)), entsFrom(7, 2, 2), 5, 5, [[5, 1], [6, 1], [7, 2], [8, 2]]],
      [unstable(5, entsFrom(5, 1, 1, 1), undefined, 6), entsFrom(6, 2), 5, 6, [[5, 1], [6, 2]]],
      [unstable(5, entsFrom(5, 1, 1, 1), undefined, 7), entsFrom(6, 2), 5, 6, [[5, 1], [6, 2]]],
    ]
    for (const [u, add, off, prog, want] of cases) {
      u.truncateAndAppend(add)
      expect([u.offset, u.offsetInProgress]).to.deep.equal([off, prog])
      expect(ids(u.entries)).to.deep.equal(want)
    }
  })

  it('slice refuses out-of-bound ranges with an invariant error', () => {
    const u = unstable(5, entsFrom(5, 1, 1))
    expect(ids(u.slice(5, 7))).to.deep.equal([[5, 1], [6, 1]])
    expect(() => u.slice(4, 6)).to.throw(RaftInvariantError)
    expect(() => u.slice(5, 8)).to.throw(RaftInvariantError)
    expect(() => u.slice(6, 5)).to.throw(RaftInvariantError)
  })
})
