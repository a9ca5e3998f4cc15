// ProgressTracker (etcd-io/raft tracker/tracker.go): committed index, votes, check-quorum,
// singleton detection and ConfState; plus the tracker config helpers.
import {expect} from 'chai'
import {InvalidInputError} from '../../../src/raft/errors.js'
import {JointConfig, MajorityConfig, VoteResult} from '../../../src/raft/quorum/index.js'
import {
  cloneConfig, configToString, emptyConfig, Progress, ProgressTracker, type TrackerConfig,
} from '../../../src/raft/tracker/index.js'

/** A tracker with the given voters (incoming, outgoing), learners and matches. */
function tracker(opts: {
  incoming: number[]; outgoing?: number[]; learners?: number[]; learnersNext?: number[]; autoLeave?: boolean
  match?: Record<number, number>
}): ProgressTracker {
  const t = new ProgressTracker(8)
  t.config = {
    voters: new JointConfig(new MajorityConfig(opts.incoming), new MajorityConfig(opts.outgoing ?? [])),
    learners: new Set(opts.learners ?? []), learnersNext: new Set(opts.learnersNext ?? []), autoLeave: opts.autoLeave ?? false,
  }
  const ids = new Set([...opts.incoming, ...(opts.outgoing ?? []), ...(opts.learners ?? []), ...(opts.learnersNext ?? [])])
  for (const id of ids) {
    const match = opts.match?.[id] ?? 0
    t.progress.set(id, new Progress({match, next: match + 1, maxInflight: 8, isLearner: (opts.learners ?? []).includes(id)}))
  }
  return t
}

describe('ProgressTracker', () => {
  it('starts with the empty config and no progress', () => {
    const t = new ProgressTracker(4, 100)
    expect([t.maxInflight, t.maxInflightBytes]).to.deep.equal([4, 100])
    expect(configToString(t.config)).to.equal('voters=()')
    expect(t.progress.size).to.equal(0)
    expect(t.committed()).to.equal(Infinity)
    expect(t.isSingleton()).to.equal(false)
  })

  it('refuses invalid inflight limits', () => {
    expect(() => new ProgressTracker(0)).to.throw(InvalidInputError, 'maxInflight must be a positive safe integer, got 0')
    expect(() => new ProgressTracker(1, -1)).to.throw(InvalidInputError, 'maxInflightBytes')
  })

  describe('committed', () => {
    it('is the majority of voter matches; learners do not count', () => {
      const t = tracker({incoming: [1, 2, 3], learners: [4, 5], match: {1: 10, 2: 5, 3: 1, 4: 100, 5: 100}})
      expect(t.committed()).to.equal(5)
    })

    it('takes both halves of a joint config into account', () => {
      const t = tracker({incoming: [1, 2, 3], outgoing: [3, 4, 5], match: {1: 10, 2: 10, 3: 10, 4: 2, 5: 1}})
      expect(t.committed()).to.equal(2)
    })

    it('counts a voter without progress as having acked nothing', () => {
      const t = tracker({incoming: [1, 2], match: {1: 10, 2: 10}})
      t.progress.delete(2)
      expect(t.committed()).to.equal(0)
    })
  })

  describe('votes', () => {
    it('records only the first vote of a node and tallies only voters', () => {
      const t = tracker({incoming: [1, 2, 3], learners: [4]})
      t.recordVote(1, true)
      t.recordVote(1, false)
      t.recordVote(4, true)
      t.recordVote(9, true)
      expect(t.tallyVotes()).to.deep.equal({granted: 1, rejected: 0, result: VoteResult.Pending})
      t.recordVote(2, false)
      t.recordVote(3, false)
      expect(t.tallyVotes()).to.deep.equal({granted: 1, rejected: 2, result: VoteResult.Lost})
      t.resetVotes()
      expect(t.tallyVotes()).to.deep.equal({granted: 0, rejected: 0, result: VoteResult.Pending})
      t.recordVote(2, true)
      t.recordVote(3, true)
      expect(t.tallyVotes()).to.deep.equal({granted: 2, rejected: 0, result: VoteResult.Won})
    })

    it('needs both halves of a joint config to win', () => {
      const t = tracker({incoming: [1, 2, 3], outgoing: [4, 5, 6]})
      for (const id of [1, 2, 3]) t.recordVote(id, true)
      expect(t.tallyVotes()).to.deep.equal({granted: 3, rejected: 0, result: VoteResult.Pending})
      t.recordVote(4, true)
      t.recordVote(5, true)
      expect(t.tallyVotes()).to.deep.equal({granted: 5, rejected: 0, result: VoteResult.Won})
    })
  })

  describe('quorumActive', () => {
    it('needs a recently active quorum of voters; learners do not count', () => {
      const t = tracker({incoming: [1, 2, 3], learners: [4, 5]})
      for (const id of [4, 5]) t.progress.get(id)!.recentActive = true
      t.progress.get(1)!.recentActive = true
      expect(t.quorumActive()).to.equal(false)
      t.progress.get(2)!.recentActive = true
      expect(t.quorumActive()).to.equal(true)
    })

    it('needs a quorum of each half when joint', () => {
      const t = tracker({incoming: [1, 2, 3], outgoing: [3, 4, 5], learnersNext: []})
      for (const id of [1, 2, 3]) t.progress.get(id)!.recentActive = true
      expect(t.quorumActive()).to.equal(false)
      t.progress.get(4)!.recentActive = true
      expect(t.quorumActive()).to.equal(true)
    })
  })

  describe('isSingleton', () => {
    it('is true for exactly one voter outside a joint config', () => {
      expect(tracker({incoming: [1]}).isSingleton()).to.equal(true)
      expect(tracker({incoming: [1], learners: [2]}).isSingleton()).to.equal(true)
      expect(tracker({incoming: [1, 2]}).isSingleton()).to.equal(false)
      expect(tracker({incoming: [1], outgoing: [1]}).isSingleton()).to.equal(false)
      expect(tracker({incoming: [1], outgoing: [2]}).isSingleton()).to.equal(false)
    })
  })

  describe('confState, voterNodes, learnerNodes, visit', () => {
    it('reports every part of the config with sorted ids', () => {
      const t = tracker({incoming: [3, 1, 2], outgoing: [4, 2, 1], learners: [7, 5], learnersNext: [4], autoLeave: true})
      expect(t.confState()).to.deep.equal({
        voters: [1, 2, 3], learners: [5, 7], votersOutgoing: [1, 2, 4], learnersNext: [4], autoLeave: true,
      })
      expect(t.voterNodes()).to.deep.equal([1, 2, 3, 4])
      expect(t.learnerNodes()).to.deep.equal([5, 7])
      const seen: number[] = []
      t.visit((id) => seen.push(id))
      expect(seen).to.deep.equal([1, 2, 3, 4, 5, 7])
    })
  })
})

describe('tracker config helpers', () => {
  it('prints configs like etcd', () => {
    const c: TrackerConfig = {
      voters: new JointConfig(new MajorityConfig([1, 2]), new MajorityConfig([1])),
      learners: new Set([3]), learnersNext: new Set([4]), autoLeave: true,
    }
    expect(configToString(c)).to.equal('voters=(1 2)&&(1) learners=(3) learners_next=(4) autoleave')
    expect(configToString(emptyConfig())).to.equal('voters=()')
  })

  it('clones the learner sets and shares the immutable voters', () => {
    const c = emptyConfig()
    c.learners.add(3)
    const d = cloneConfig(c)
    d.learners.add(4)
    d.learnersNext.add(5)
    expect([...c.learners]).to.deep.equal([3])
    expect(c.learnersNext.size).to.equal(0)
    expect(d.voters).to.equal(c.voters)
  })
})
