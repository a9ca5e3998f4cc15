// Property tests (fast-check) of the Changer, after etcd-io/raft's TestConfChangeQuick: the
// same membership is reached by one joint change (enterJoint + leaveJoint) as by a series of
// simple changes; and any sequence of random operations either succeeds with every invariant
// intact or is refused without touching the input.
import {expect} from 'chai'
import fc from 'fast-check'
import {Changer, type ChangeResult} from '../../../src/raft/confchange/index.js'
import {ConfChangeError} from '../../../src/raft/errors.js'
import {configToString, ProgressTracker} from '../../../src/raft/tracker/index.js'
import {type ConfChangeSingle, ConfChangeType, type ConfState} from '../../../src/raft/types.js'
import {checkResult, render, trackerWith} from './helpers.js'

const LAST_INDEX = 10
const RUNS = {numRuns: 300}

/** Applies one operation to `t` (checking the result thoroughly) and installs the result. */
function step(t: ProgressTracker, op: (c: Changer) => ChangeResult): ProgressTracker {
  const before = render(t)
  const r = op(new Changer(t, LAST_INDEX))
  expect(render(t), 'the input tracker was mutated').to.equal(before)
  checkResult(t, r, LAST_INDEX)
  return trackerWith(r)
}

function viaSimple(t: ProgressTracker, ccs: readonly ConfChangeSingle[]): ProgressTracker {
  return ccs.reduce((acc, cc) => step(acc, (c) => c.simple([cc])), t)
}

function viaJoint(t: ProgressTracker, ccs: readonly ConfChangeSingle[], autoLeave: boolean): ProgressTracker {
  const joint = step(t, (c) => c.enterJoint(autoLeave, ccs))
  expect(joint.config.autoLeave).to.equal(autoLeave)
  return step(joint, (c) => c.leaveJoint())
}

const typeArb = fc.constantFrom(
  ConfChangeType.AddNode, ConfChangeType.RemoveNode, ConfChangeType.AddLearnerNode, ConfChangeType.UpdateNode)

/** etcd's initialChanges: voter 1, then 1..5 more voters among ids 1..5. */
const setupArb = fc.array(fc.integer({min: 1, max: 5}), {minLength: 1, maxLength: 5})
  .map((ids) => [1, ...ids].map((nodeId): ConfChangeSingle => ({type: ConfChangeType.AddNode, nodeId})))

/** etcd's confChanges: 1..9 changes of any type on ids 2..10 (node 1 stays a voter). */
const changesArb = fc.array(fc.record({type: typeArb, nodeId: fc.integer({min: 2, max: 10})}), {minLength: 1, maxLength: 9})

/** A non-empty voter set and a disjoint learner set over ids 1..9. */
const membershipArb = fc.uniqueArray(fc.integer({min: 1, max: 9}), {minLength: 1, maxLength: 9})
  .chain((ids) => fc.integer({min: 1, max: ids.length}).map((nv) => ({voters: ids.slice(0, nv), learners: ids.slice(nv)})))

const sorted = (ids: readonly number[]): number[] => [...ids].sort((a, b) => a - b)

function confStateOf(m: {voters: number[]; learners: number[]}): ConfState {
  return {voters: sorted(m.voters), learners: sorted(m.learners), votersOutgoing: [], learnersNext: [], autoLeave: false}
}

describe('confchange properties', () => {
  it('a list of random changes gives the same config one simple change at a time or as one joint change', () => {
    fc.assert(fc.property(setupArb, changesArb, fc.boolean(), (setup, ccs, autoLeave) => {
      const start = viaSimple(new ProgressTracker(10), setup)
      const a = viaSimple(start, ccs)
      const b = viaJoint(start, ccs, autoLeave)
      expect(configToString(b.config)).to.equal(configToString(a.config))
      expect(render(b)).to.equal(render(a))
    }), RUNS)
  })

  it('a random target membership is reached from a random start by one joint change or by simple changes', () => {
    fc.assert(fc.property(membershipArb, membershipArb, fc.boolean(), fc.array(fc.nat(), {minLength: 10, maxLength: 10}),
      (from, to, autoLeave, keys) => {
        const start = trackerWith(new Changer(new ProgressTracker(10), LAST_INDEX).restore(confStateOf(from)))
        const target = confStateOf(to)
        const gone = [...from.voters, ...from.learners].filter((id) => !to.voters.includes(id) && !to.learners.includes(id))
        const byKey = (ids: number[]): number[] => [...ids].sort((x, y) => keys[x] - keys[y] || x - y)
        const adds = byKey(to.voters).map((nodeId) => ({type: ConfChangeType.AddNode, nodeId}))
        const rest = byKey([...to.learners, ...gone]).map((nodeId) => ({
          type: to.learners.includes(nodeId) ? ConfChangeType.AddLearnerNode : ConfChangeType.RemoveNode, nodeId,
        }))
        // Joint: all changes at once, in any order (each node id occurs once).
        const shuffled = [...adds, ...rest].sort((x, y) => keys[x.nodeId] - keys[y.nodeId] || x.nodeId - y.nodeId)
        const joint = step(start, (c) => c.enterJoint(autoLeave, shuffled))
        expect(joint.config.voters.outgoing.slice()).to.deep.equal(sorted(from.voters))
        expect(sorted([...joint.config.learnersNext])).to.deep.equal(sorted(from.voters.filter((id) => to.learners.includes(id))))
        const left = step(joint, (c) => c.leaveJoint())
        expect(left.confState()).to.deep.equal(target)
        // Simple: voters are added first, so a voter is always left while demoting and removing.
        const simple = viaSimple(start, [...adds, ...rest])
        expect(simple.confState()).to.deep.equal(target)
        expect(render(simple)).to.equal(render(left))
      }), RUNS)
  })

  it('random operations either succeed with all invariants or are refused without effect', () => {
    const opArb = fc.oneof(
      fc.record({kind: fc.constant('simple' as const), ccs: fc.array(fc.record({type: typeArb, nodeId: fc.integer({min: 0, max: 6})}), {maxLength: 3})}),
      fc.record({kind: fc.constant('enter' as const), autoLeave: fc.boolean(),
        ccs: fc.array(fc.record({type: typeArb, nodeId: fc.integer({min: 0, max: 6})}), {maxLength: 6})}),
      fc.constant({kind: 'leave' as const}),
    )
    fc.assert(fc.property(fc.array(opArb, {maxLength: 25}), (ops) => {
      let t = new ProgressTracker(10)
      for (const op of ops) {
        const before = render(t)
        try {
          t = step(t, (c) => (op.kind === 'simple' ? c.simple(op.ccs)
            : op.kind === 'enter' ? c.enterJoint(op.autoLeave, op.ccs) : c.leaveJoint()))
        } catch (err) {
          if (!(err instanceof ConfChangeError)) throw err
          expect(render(t)).to.equal(before)
        }
      }
    }), RUNS)
  })
})
