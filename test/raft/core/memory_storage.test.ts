// Unit tests of MemoryStorage, ported from etcd-io/raft storage_test.go.
import {expect} from 'chai'
import {CompactedError, InvalidInputError, RaftInvariantError, SnapshotOutOfDateError, UnavailableError} from '../../../src/raft/errors.js'
import {MemoryStorage} from '../../../src/raft/memory_storage.js'
import {type ConfState, EntryType} from '../../../src/raft/types.js'
import {ent, ents, ids, snap} from './helpers.js'

/** A storage whose log is (3,3) (dummy) (4,4) (5,5), as in etcd's storage tests. */
function storage345(): MemoryStorage {
  const s = new MemoryStorage()
  s.applySnapshot(snap(3, 3))
  s.append(ents([4, 4], [5, 5]))
  return s
}

const cs: ConfState = {voters: [1, 2, 3], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false}

describe('MemoryStorage (etcd storage.go)', () => {
  it('a fresh storage has a dummy entry at index 0, term 0', () => {
    const s = new MemoryStorage()
    expect([s.firstIndex(), s.lastIndex(), s.term(0)]).to.deep.equal([1, 0, 0])
    expect(() => s.term(1)).to.throw(UnavailableError)
    expect(s.initialState().hardState).to.deep.equal({term: 0, vote: 0, commit: 0})
  })

  it('term: compacted below the dummy, unavailable beyond the last', () => {
    const s = storage345()
    expect(() => s.term(2)).to.throw(CompactedError)
    expect(s.term(3)).to.equal(3)
    expect(s.term(4)).to.equal(4)
    expect(s.term(5)).to.equal(5)
    expect(() => s.term(6)).to.throw(UnavailableError)
  })

  it('entries: compacted at or below the dummy, size-limited but at least one', () => {
    const s = new MemoryStorage()
    s.applySnapshot(snap(3, 3))
    s.append([ent(4, 4, 'aaaa'), ent(5, 5, 'bbbb'), ent(6, 6, 'cccc')])
    expect(() => s.entries(2, 6)).to.throw(CompactedError)
    expect(() => s.entries(3, 4)).to.throw(CompactedError)
    expect(ids(s.entries(4, 5))).to.deep.equal([[4, 4]])
    expect(ids(s.entries(4, 6))).to.deep.equal([[4, 4], [5, 5]])
    expect(ids(s.entries(4, 7))).to.deep.equal([[4, 4], [5, 5], [6, 6]])
    expect(ids(s.entries(4, 7, 0))).to.deep.equal([[4, 4]])
    expect(ids(s.entries(4, 7, 7))).to.deep.equal([[4, 4]])
    expect(ids(s.entries(4, 7, 8))).to.deep.equal([[4, 4], [5, 5]])
    expect(ids(s.entries(4, 7, 12))).to.deep.equal([[4, 4], [5, 5], [6, 6]])
    expect(() => s.entries(4, 8)).to.throw(RaftInvariantError)
  })

  it('firstIndex and lastIndex follow compaction', () => {
    const s = storage345()
    expect([s.firstIndex(), s.lastIndex()]).to.deep.equal([4, 5])
    s.compact(4)
    expect([s.firstIndex(), s.lastIndex()]).to.deep.equal([5, 5])
  })

  it('compact keeps the compacted entry as the dummy', () => {
    const cases: Array<[number, boolean, number, number]> = [
      [2, true, 3, 3], [3, true, 3, 3], [4, false, 4, 4], [5, false, 5, 5],
    ]
    for (const [i, compacted, wIndex, wTerm] of cases) {
      const s = storage345()
      if (compacted) {
        expect(() => s.compact(i)).to.throw(CompactedError)
      } else {
        s.compact(i)
      }
      expect([s.firstIndex() - 1, s.term(s.firstIndex() - 1)]).to.deep.equal([wIndex, wTerm])
    }
    expect(() => storage345().compact(6)).to.throw(RaftInvariantError)
  })

  it('compact and createSnapshot refuse indexes that are not safe integers', () => {
    for (const bad of [4.5, Number.NaN, -1, 2 ** 53]) {
      expect(() => storage345().compact(bad), `compact(${bad})`).to.throw(InvalidInputError, /compact index/)
      expect(() => storage345().createSnapshot(bad, cs, new Uint8Array()), `createSnapshot(${bad})`)
        .to.throw(InvalidInputError, /createSnapshot index/)
    }
  })

  it('createSnapshot records index, term, ConfState and data', () => {
    const data = new Uint8Array([1, 2, 3])
    const s = storage345()
    const sn = s.createSnapshot(4, cs, data)
    expect(sn.metadata).to.deep.equal({index: 4, term: 4, confState: cs})
    expect(sn.data).to.equal(data)
    expect(s.snapshot(0, 2)).to.equal(sn)
    expect(s.createSnapshot(5, undefined, data).metadata.confState).to.deep.equal(s.initialState().confState)
    expect(() => s.createSnapshot(5, cs, data)).to.throw(SnapshotOutOfDateError)
    expect(() => storage345().createSnapshot(6, cs, data)).to.throw(RaftInvariantError)
  })

  it('append overwrites conflicts, ignores compacted entries and refuses gaps', () => {
    type Case = [ReturnType<typeof ents>, Array<[number, number]> | 'gap']
    const cases: Case[] = [
      [ents([1, 1], [2, 2]), [[3, 3], [4, 4], [5, 5]]],
      [ents([3, 3], [4, 4], [5, 5]), [[3, 3], [4, 4], [5, 5]]],
      [ents([3, 3], [4, 6], [5, 6]), [[3, 3], [4, 6], [5, 6]]],
      [ents([3, 3], [4, 4], [5, 5], [6, 5]), [[3, 3], [4, 4], [5, 5], [6, 5]]],
      [ents([2, 3], [3, 3], [4, 5]), [[3, 3], [4, 5]]], // truncate incoming, replace existing
      [ents([4, 5]), [[3, 3], [4, 5]]],
      [ents([6, 5]), [[3, 3], [4, 4], [5, 5], [6, 5]]],
      [ents([7, 5]), 'gap'],
    ]
    for (const [add, want] of cases) {
      const s = storage345()
      if (want === 'gap') {
        expect(() => s.append(add)).to.throw(RaftInvariantError, /missing log entry/)
        continue
      }
      s.append(add)
      expect(ids([{...s.entries(4, 5)[0], index: 3, term: s.term(3)}, ...s.entries(4, s.lastIndex() + 1)]))
        .to.deep.equal(want)
    }
  })

  it('applySnapshot replaces the log and the ConfState; older snapshots are refused', () => {
    const s = new MemoryStorage()
    s.applySnapshot(snap(4, 4))
    expect([s.firstIndex(), s.lastIndex(), s.term(4)]).to.deep.equal([5, 4, 4])
    expect(s.initialState().confState.voters).to.deep.equal([1, 2, 3])
    expect(() => s.applySnapshot(snap(3, 3))).to.throw(SnapshotOutOfDateError)
  })

  it('setHardState, setConfState and withConfState feed initialState', () => {
    const s = MemoryStorage.withConfState({voters: [1, 2], learners: [3]})
    expect(s.initialState().confState).to.deep.equal({
      voters: [1, 2], learners: [3], votersOutgoing: [], learnersNext: [], autoLeave: false,
    })
    expect(s.snapshot(0, 0).metadata.confState, 'the empty snapshot names the bootstrap members').to.deep.equal(s.initialState().confState)
    s.setHardState({term: 2, vote: 1, commit: 0})
    s.setConfState(cs, 0)
    expect(s.initialState()).to.deep.equal({hardState: {term: 2, vote: 1, commit: 0}, confState: cs})
  })

  it('setConfState records a conf-change entry of the log, and refuses any other index', () => {
    const s = storage345()
    s.append([{...ent(6, 5), entryType: EntryType.EntryConfChangeV2}])
    const cs2: ConfState = {...cs, learners: [4]}
    s.setConfState(cs2, 6)
    expect(s.initialState(5).confState).to.deep.equal(cs)
    expect(s.initialState(6).confState).to.deep.equal(cs2)
    for (const bad of [3, 5, 7, 0]) {
      expect(() => s.setConfState(cs2, bad), `setConfState at ${bad}`).to.throw(InvalidInputError, /is not a conf-change entry/)
    }
    expect(() => s.setConfState(cs2, -1)).to.throw(InvalidInputError, /setConfState index/)
  })
})
