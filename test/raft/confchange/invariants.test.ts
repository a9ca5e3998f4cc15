// checkInvariants: every broken rule is reported with a message naming it.
import {expect} from 'chai'
import {checkInvariants} from '../../../src/raft/confchange/index.js'
import {ConfChangeError} from '../../../src/raft/errors.js'
import {JointConfig, MajorityConfig} from '../../../src/raft/quorum/index.js'
import {Progress, type ProgressMap, type TrackerConfig} from '../../../src/raft/tracker/index.js'

interface Shape {
  incoming: number[]
  outgoing?: number[]
  learners?: number[]
  learnersNext?: number[]
  autoLeave?: boolean
  /** Ids with progress; default: every member. */
  progress?: number[]
  /** Ids whose progress is marked learner; default: the learners. */
  marked?: number[]
}

function build(s: Shape): [TrackerConfig, ProgressMap] {
  const config: TrackerConfig = {
    voters: new JointConfig(new MajorityConfig(s.incoming), new MajorityConfig(s.outgoing ?? [])),
    learners: new Set(s.learners ?? []), learnersNext: new Set(s.learnersNext ?? []), autoLeave: s.autoLeave ?? false,
  }
  const members = s.progress ?? [...new Set([...s.incoming, ...(s.outgoing ?? []), ...(s.learners ?? []), ...(s.learnersNext ?? [])])]
  const marked = new Set(s.marked ?? s.learners ?? [])
  const progress: ProgressMap = new Map(members.map((id) => [id, new Progress({next: 1, maxInflight: 1, isLearner: marked.has(id)})]))
  return [config, progress]
}

const check = (s: Shape): void => checkInvariants(...build(s))

describe('checkInvariants', () => {
  it('accepts the empty config and valid simple and joint configs', () => {
    check({incoming: []})
    check({incoming: [1, 2], learners: [3]})
    check({incoming: [1, 2], outgoing: [1, 3], learners: [4], learnersNext: [3], autoLeave: true})
  })

  const cases: Array<[string, Shape, string]> = [
    ['a member without progress', {incoming: [1, 2], progress: [1]}, 'no progress for 2'],
    ['progress of a non-member', {incoming: [1], progress: [1, 9]}, 'progress for 9, which is not in the config'],
    ['a voter marked learner', {incoming: [1, 2], marked: [2]}, '2 is a voter but its progress is marked as learner'],
    ['a learner that is an incoming voter', {incoming: [1, 2], learners: [2], marked: []}, '2 is in learners and in the incoming voters'],
    ['a learner that is an outgoing voter', {incoming: [1], outgoing: [2], learners: [2], marked: []}, '2 is in learners and in the outgoing voters'],
    ['a learner not marked learner', {incoming: [1], learners: [2], marked: []}, '2 is in learners, but its progress is not marked as learner'],
    ['learnersNext outside the outgoing voters', {incoming: [1], outgoing: [1], learnersNext: [2]}, '2 is in learnersNext, but not in the outgoing voters'],
    ['learnersNext in the incoming voters', {incoming: [1, 2], outgoing: [2], learnersNext: [2]}, '2 is in learnersNext and in the incoming voters'],
    ['a learnersNext already marked learner', {incoming: [1], outgoing: [2], learnersNext: [2], marked: [2]}, '2 is a voter but its progress is marked as learner'],
    ['a zero-voter joint config', {incoming: [], outgoing: [1]}, 'a joint config has no incoming voters'],
    ['learnersNext outside a joint config', {incoming: [1], learnersNext: [2]}, '2 is in learnersNext, but not in the outgoing voters'],
    ['autoLeave outside a joint config', {incoming: [1], autoLeave: true}, 'autoLeave must be false when the config is not joint'],
  ]
  for (const [name, shape, msg] of cases) {
    it(`refuses ${name}`, () => {
      expect(() => check(shape)).to.throw(ConfChangeError, `invalid config: ${msg}`)
    })
  }
})
