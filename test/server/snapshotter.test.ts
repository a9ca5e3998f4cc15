/**
 * What log compaction after an automatic snapshot may remove (compactionFloor): never an entry a
 * replicating follower still needs, unless that follower is so far behind that the snapshot
 * serves it better.
 */
import {expect} from 'chai'
import {EMPTY_CONF_STATE, type ProgressStatus, ProgressState, StateRole, type Status} from '../../src/raft/index.js'
import {compactionFloor} from '../../src/server/snapshotter.js'

const pr = (match: number, state = ProgressState.Replicate): ProgressStatus => ({
  match, next: match + 1, state, isLearner: false, pendingSnapshot: 0, recentActive: true, paused: false, inflight: 0,
})

function leader(progress: Record<number, ProgressStatus>): Status {
  return {
    id: 1, term: 2, vote: 1, commit: 1000, applied: 1000, role: StateRole.Leader, leaderId: 1, leadTransferee: 0,
    progress: new Map(Object.entries(progress).map(([id, p]) => [Number(id), p])), confState: {...EMPTY_CONF_STATE, voters: [1, 2, 3]},
  }
}

describe('server/snapshotter: compaction floor', () => {
  it('keeps every entry after the match of the slowest replicating follower', () => {
    expect(compactionFloor(leader({1: pr(1000), 2: pr(990), 3: pr(700)}), 1000, 500)).to.equal(701)
  })

  it('lets the snapshot serve a follower more than one snapshot interval behind', () => {
    expect(compactionFloor(leader({1: pr(1000), 2: pr(990), 3: pr(499)}), 1000, 500)).to.equal(991)
    expect(compactionFloor(leader({1: pr(1000), 2: pr(400), 3: pr(499)}), 1000, 500)).to.equal(undefined)
  })

  it('ignores the leader itself and followers in probe or snapshot state', () => {
    expect(compactionFloor(leader({1: pr(10), 2: pr(990)}), 1000, 500)).to.equal(991)
    expect(compactionFloor(leader({1: pr(1000), 2: pr(600, ProgressState.Probe), 3: pr(900, ProgressState.Snapshot)}), 1000, 500))
      .to.equal(undefined)
  })

  it('does not constrain a follower (no progress)', () => {
    const st: Status = {...leader({}), role: StateRole.Follower, leaderId: 2, progress: undefined}
    expect(compactionFloor(st, 1000, 500)).to.equal(undefined)
  })
})
