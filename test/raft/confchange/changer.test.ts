// Unit tests of the Changer beyond the golden files: no mutation of the input, what happens to
// existing progress on promotion/demotion, new progress, input validation, restore.
import {expect} from 'chai'
import {Changer, type ChangeResult, checkInvariants, restore} from '../../../src/raft/confchange/index.js'
import {ConfChangeError} from '../../../src/raft/errors.js'
import {ProgressState, ProgressTracker} from '../../../src/raft/tracker/index.js'
import {ConfChangeType, type ConfState} from '../../../src/raft/types.js'
import {checkResult, parseChanges, render, trackerWith} from './helpers.js'

const cs = (voters: number[], learners: number[] = [], extra: Partial<ConfState> = {}): ConfState =>
  ({voters, learners, votersOutgoing: [], learnersNext: [], autoLeave: false, ...extra})

/** A tracker restored from `state`, with inflight limits 5 / 1000. */
function trackerFor(state: ConfState, lastIndex = 10): ProgressTracker {
  return trackerWith(new Changer(new ProgressTracker(5, 1000), lastIndex).restore(state), 5, 1000)
}

/** Applies a change and checks the result like every golden test does. */
function change(t: ProgressTracker, lastIndex: number, op: (c: Changer) => ChangeResult): ChangeResult {
  const before = render(t)
  const r = op(new Changer(t, lastIndex))
  expect(render(t)).to.equal(before)
  checkResult(t, r, lastIndex)
  return r
}

describe('Changer', () => {
  describe('new progress', () => {
    it('starts in Probe with match 0, next = max(lastIndex, 1), active, with the tracker\'s inflight limits', () => {
      const t = trackerFor(cs([1]))
      const r = change(t, 42, (c) => c.simple(parseChanges('v2 l3')))
      for (const id of [2, 3]) {
        const pr = r.progress.get(id)!
        expect(pr).to.deep.include({state: ProgressState.Probe, match: 0, next: 42, recentActive: true, isLearner: id === 3})
        expect([pr.inflights.size, pr.inflights.maxBytes]).to.deep.equal([5, 1000])
      }
      expect(change(trackerFor(cs([1])), 0, (c) => c.simple(parseChanges('v2'))).progress.get(2)!.next).to.equal(1)
    })
  })

  describe('existing progress', () => {
    /** A tracker where node 2 has replicated: Replicate, match 7, one append in flight. */
    function busy(state: ConfState): ProgressTracker {
      const t = trackerFor(state)
      const pr = t.progress.get(2)!
      pr.maybeUpdate(7)
      pr.becomeReplicate()
      pr.sentEntries(2, 10)
      pr.recentActive = false
      return t
    }

    it('a promotion keeps match, next, state and inflights, in a copy', () => {
      const t = busy(cs([1], [2]))
      const r = change(t, 99, (c) => c.simple(parseChanges('v2')))
      const pr = r.progress.get(2)!
      expect(pr.toString()).to.equal('StateReplicate match=7 next=10 inactive inflight=1')
      expect(pr.isLearner).to.equal(false)
      expect(t.progress.get(2)!.isLearner).to.equal(true)
      pr.inflights.freeLE(100)
      expect(t.progress.get(2)!.inflights.count()).to.equal(1)
    })

    it('a demotion while joint stages the node in learnersNext with its progress, not yet a learner', () => {
      const t = busy(cs([1, 2, 3]))
      const joint = change(t, 99, (c) => c.enterJoint(true, parseChanges('l2')))
      expect([...joint.config.learnersNext]).to.deep.equal([2])
      expect(joint.progress.get(2)!.toString()).to.equal('StateReplicate match=7 next=10 inactive inflight=1')
      const left = change(trackerWith(joint, 5, 1000), 99, (c) => c.leaveJoint())
      expect(left.progress.get(2)!.toString()).to.equal('StateReplicate match=7 next=10 learner inactive inflight=1')
      expect(left.config.learnersNext.size).to.equal(0)
      expect([...left.config.learners]).to.deep.equal([2])
    })

    it('a removed outgoing voter keeps its progress until the joint config is left', () => {
      const t = busy(cs([1, 2, 3]))
      const joint = change(t, 99, (c) => c.enterJoint(false, parseChanges('r2')))
      expect(joint.progress.get(2)!.match).to.equal(7)
      const left = change(trackerWith(joint), 99, (c) => c.leaveJoint())
      expect(left.progress.has(2)).to.equal(false)
    })
  })

  describe('no mutation', () => {
    it('leaves the tracker\'s config, sets and progress objects untouched on success and failure', () => {
      const t = trackerFor(cs([1, 2, 3], [4]))
      const {config, progress} = t
      const learners = config.learners
      const prs = new Map(progress)
      const ops: Array<(c: Changer) => unknown> = [
        (c) => c.simple(parseChanges('l1')),
        (c) => c.simple(parseChanges('v4 v5')),
        (c) => c.enterJoint(true, parseChanges('r1 r2 v4 l3')),
        (c) => c.enterJoint(false, parseChanges('r1 r2 r3')),
        (c) => c.leaveJoint(),
        (c) => c.restore(cs([7])),
      ]
      const before = render(t)
      for (const op of ops) {
        try {
          op(new Changer(t, 3))
        } catch (err) {
          expect(err).to.be.instanceOf(ConfChangeError)
        }
        expect(t.config).to.equal(config)
        expect(t.config.learners).to.equal(learners)
        expect(t.progress).to.equal(progress)
        for (const [id, pr] of prs) expect(t.progress.get(id)).to.equal(pr)
        expect(render(t)).to.equal(before)
      }
    })
  })

  describe('errors', () => {
    const refuse = (t: ProgressTracker, op: (c: Changer) => unknown, msg: string): void => {
      let caught: unknown
      try {
        op(new Changer(t, 1))
      } catch (err) {
        caught = err
      }
      expect(caught).to.be.instanceOf(ConfChangeError)
      expect((caught as ConfChangeError).code).to.equal('CONF_CHANGE')
      expect((caught as ConfChangeError).message).to.equal(msg)
    }
    const joint = (): ProgressTracker => trackerFor(cs([1, 2], [], {votersOutgoing: [1]}))

    it('names exactly what was refused', () => {
      refuse(joint(), (c) => c.enterJoint(false, []), 'config is already joint')
      refuse(joint(), (c) => c.simple([]), "config is already joint: can't apply a simple config change before leaving it")
      refuse(trackerFor(cs([1])), (c) => c.leaveJoint(), "config is not joint: can't leave a non-joint config")
      refuse(new ProgressTracker(5), (c) => c.enterJoint(false, parseChanges('v1')), "can't make a zero-voter config joint")
      refuse(trackerFor(cs([1])), (c) => c.simple(parseChanges('r1')), 'removed all voters')
      refuse(trackerFor(cs([1, 2])), (c) => c.enterJoint(true, parseChanges('l1 l2')), 'removed all voters')
      refuse(trackerFor(cs([1])), (c) => c.simple(parseChanges('v2 v3')),
        'more than one voter changed without entering joint config: voters (1) would become (1 2 3)')
      refuse(trackerFor(cs([1])), (c) => c.simple([{type: 7 as ConfChangeType, nodeId: 2}]), 'unknown change type 7')
    })

    it('refuses invalid node ids and arguments', () => {
      refuse(trackerFor(cs([1])), (c) => c.simple([{type: ConfChangeType.AddNode, nodeId: -2}]),
        'invalid node id -2: must be a non-negative safe integer')
      refuse(trackerFor(cs([1])), (c) => c.simple([{type: ConfChangeType.AddNode, nodeId: 2.5}]),
        'invalid node id 2.5: must be a non-negative safe integer')
      refuse(trackerFor(cs([1])), (c) => c.enterJoint('yes' as unknown as boolean, []), 'autoLeave must be a boolean, got yes')
      expect(() => new Changer(new ProgressTracker(1), -1)).to.throw(ConfChangeError, 'lastIndex must be a non-negative safe integer, got -1')
      expect(() => new Changer(new ProgressTracker(1), 2 ** 53)).to.throw(ConfChangeError, 'lastIndex')
    })

    it('refuses to work from a tracker whose config breaks an invariant', () => {
      const t = trackerFor(cs([1, 2]))
      t.progress.delete(2)
      refuse(t, (c) => c.simple(parseChanges('v3')), 'invalid config: no progress for 2')
    })
  })

  describe('restore', () => {
    it('ignores the tracker\'s current config and keeps its inflight limits', () => {
      const t = trackerFor(cs([1, 2, 3], [4]))
      const r = restore(new Changer(t, 6), cs([5], [6]))
      checkInvariants(r.config, r.progress)
      expect(trackerWith(r).confState()).to.deep.equal(cs([5], [6]))
      expect(r.progress.get(5)!.inflights.maxBytes).to.equal(1000)
      expect(r.progress.get(5)!.next).to.equal(6)
    })

    it('the free function equals the method', () => {
      const state = cs([1, 2, 3], [5], {votersOutgoing: [1, 2, 4], learnersNext: [4], autoLeave: true})
      const t = new ProgressTracker(5)
      expect(render(restore(new Changer(t, 3), state))).to.equal(render(new Changer(t, 3).restore(state)))
      expect(trackerWith(restore(new Changer(t, 3), state)).confState()).to.deep.equal(state)
    })

    it('refuses ConfStates with bad ids', () => {
      expect(() => new Changer(new ProgressTracker(1), 0).restore(cs([1], [-3])))
        .to.throw(ConfChangeError, 'invalid node id -3 in ConfState.learners: must be a positive safe integer')
    })
  })
})
