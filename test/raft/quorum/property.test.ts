// Property tests (fast-check): the optimised quorum arithmetic against naive references, in
// the spirit of etcd-io/raft's quick tests of quorum/.
import {expect} from 'chai'
import fc from 'fast-check'
import {JointConfig, MajorityConfig} from '../../../src/raft/quorum/index.js'
import {naiveCommittedSortPick, naiveCommittedThreshold, naiveJointVote, naiveVote} from './naive.js'

/** A set of voter ids drawn from a small range, so configs overlap often. */
const voterIds = fc.uniqueArray(fc.integer({min: 1, max: 12}), {maxLength: 9})

/** Acks for ids 1..12: an index, or undefined (acked nothing). */
const acksArb = fc.array(fc.option(fc.integer({min: 0, max: 1000}), {nil: undefined}), {minLength: 13, maxLength: 13})

/** Votes for ids 1..12: granted, rejected or not voted. */
const votesArb = fc.array(fc.constantFrom<boolean | undefined>(true, false, undefined), {minLength: 13, maxLength: 13})

function toVotes(vs: Array<boolean | undefined>): Map<number, boolean> {
  const m = new Map<number, boolean>()
  vs.forEach((v, id) => {
    if (v !== undefined && id > 0) m.set(id, v)
  })
  return m
}

const RUNS = {numRuns: 500}

describe('quorum properties', () => {
  it('MajorityConfig.committedIndex equals naive sort-and-pick and threshold search', () => {
    fc.assert(fc.property(voterIds, acksArb, (ids, acks) => {
      const acked = (id: number): number | undefined => acks[id]
      const got = new MajorityConfig(ids).committedIndex(acked)
      expect(got).to.equal(naiveCommittedSortPick(ids, acked))
      expect(got).to.equal(naiveCommittedThreshold(ids, acked))
    }), RUNS)
  })

  it('JointConfig.committedIndex equals the minimum of the halves\' naive results', () => {
    fc.assert(fc.property(voterIds, voterIds, acksArb, (a, b, acks) => {
      const acked = (id: number): number | undefined => acks[id]
      const got = new JointConfig(new MajorityConfig(a), new MajorityConfig(b)).committedIndex(acked)
      expect(got).to.equal(Math.min(naiveCommittedSortPick(a, acked), naiveCommittedSortPick(b, acked)))
    }), RUNS)
  })

  it('the committed index is never above what a majority acked, and never decreases when acks grow', () => {
    fc.assert(fc.property(voterIds, acksArb, fc.integer({min: 1, max: 12}), fc.integer({min: 1, max: 50}),
      (ids, acks, who, bump) => {
        const c = new MajorityConfig(ids)
        const before = c.committedIndex((id) => acks[id])
        const raised = acks.map((v, id) => (id === who ? (v ?? 0) + bump : v))
        expect(c.committedIndex((id) => raised[id])).to.be.at.least(before)
      }), RUNS)
  })

  it('MajorityConfig.voteResult equals naive counting', () => {
    fc.assert(fc.property(voterIds, votesArb, (ids, vs) => {
      const votes = toVotes(vs)
      expect(new MajorityConfig(ids).voteResult(votes)).to.equal(naiveVote(ids, votes))
    }), RUNS)
  })

  it('JointConfig.voteResult equals the naive combination of the halves', () => {
    fc.assert(fc.property(voterIds, voterIds, votesArb, (a, b, vs) => {
      const votes = toVotes(vs)
      const got = new JointConfig(new MajorityConfig(a), new MajorityConfig(b)).voteResult(votes)
      expect(got).to.equal(naiveJointVote(naiveVote(a, votes), naiveVote(b, votes)))
    }), RUNS)
  })

  it('a joint config of identical halves decides like the majority config', () => {
    fc.assert(fc.property(voterIds, acksArb, votesArb, (ids, acks, vs) => {
      const m = new MajorityConfig(ids)
      const j = new JointConfig(m, new MajorityConfig(ids))
      expect(j.committedIndex((id) => acks[id])).to.equal(m.committedIndex((id) => acks[id]))
      expect(j.voteResult(toVotes(vs))).to.equal(m.voteResult(toVotes(vs)))
    }), RUNS)
  })
})
