// Progress (etcd-io/raft v3.6 tracker/progress_test.go): state transitions, acknowledgements,
// rejections and pausing.
import {expect} from 'chai'
import {InvalidInputError, RaftInvariantError} from '../../../src/raft/errors.js'
import {Progress, ProgressState} from '../../../src/raft/tracker/index.js'

function pr(fields: Partial<Pick<Progress, 'match' | 'next' | 'state' | 'sentCommit' | 'pendingSnapshot'>> = {}): Progress {
  const p = new Progress({next: fields.next ?? 1, match: fields.match ?? 0, maxInflight: 4})
  if (fields.state !== undefined) p.state = fields.state
  if (fields.sentCommit !== undefined) p.sentCommit = fields.sentCommit
  if (fields.pendingSnapshot !== undefined) p.pendingSnapshot = fields.pendingSnapshot
  return p
}

describe('Progress', () => {
  describe('construction and clone', () => {
    it('starts in Probe, not paused, not active, with empty inflights', () => {
      const p = new Progress({next: 5, match: 2, maxInflight: 3, maxInflightBytes: 10, isLearner: true})
      expect(p).to.deep.include({match: 2, next: 5, state: ProgressState.Probe, pendingSnapshot: 0, sentCommit: 0,
        recentActive: false, msgAppFlowPaused: false, isLearner: true})
      expect([p.inflights.size, p.inflights.maxBytes, p.inflights.count()]).to.deep.equal([3, 10, 0])
    })

    it('refuses next <= match and non-integers', () => {
      expect(() => new Progress({next: 2, match: 2, maxInflight: 1})).to.throw(InvalidInputError, 'above match 2')
      expect(() => new Progress({next: 0, maxInflight: 1})).to.throw(InvalidInputError, 'got 0')
      expect(() => new Progress({next: 3, match: -1, maxInflight: 1})).to.throw(InvalidInputError, 'match')
      expect(() => new Progress({next: 3, maxInflight: 0})).to.throw(InvalidInputError, 'size')
    })

    it('clone copies every field and the inflights, sharing nothing', () => {
      const p = pr({match: 3, next: 4})
      p.becomeReplicate()
      p.sentEntries(2, 7)
      p.recentActive = true
      p.isLearner = true
      const c = p.clone()
      expect(c.toString()).to.equal(p.toString())
      expect(c).to.deep.include({match: 3, next: 6, sentCommit: 0, recentActive: true, isLearner: true})
      c.inflights.freeLE(10)
      c.next = 9
      expect(p.inflights.count()).to.equal(1)
      expect(p.next).to.equal(6)
    })
  })

  describe('state transitions', () => {
    it('becomeProbe from Replicate restarts at match+1 and clears inflights and pause', () => {
      const p = pr({match: 1, next: 5})
      p.becomeReplicate()
      p.sentEntries(3, 0)
      p.msgAppFlowPaused = true
      p.sentCommit = 4
      p.becomeProbe()
      expect(p).to.deep.include({state: ProgressState.Probe, match: 1, next: 2, msgAppFlowPaused: false, sentCommit: 1})
      expect(p.inflights.count()).to.equal(0)
    })

    it('becomeProbe from Snapshot resumes after the snapshot (or after match if later)', () => {
      const p = pr({match: 1, next: 5})
      p.becomeSnapshot(10)
      p.becomeProbe()
      expect(p).to.deep.include({state: ProgressState.Probe, match: 1, next: 11, pendingSnapshot: 0, sentCommit: 10})
      const q = pr({match: 1, next: 5})
      q.becomeSnapshot(10)
      q.match = 15
      q.becomeProbe()
      expect(q.next).to.equal(16)
    })

    it('becomeReplicate streams from match+1', () => {
      const p = pr({match: 1, next: 5})
      p.msgAppFlowPaused = true
      p.becomeReplicate()
      expect(p).to.deep.include({state: ProgressState.Replicate, match: 1, next: 2, msgAppFlowPaused: false})
    })

    it('becomeSnapshot records the pending snapshot, next and sentCommit', () => {
      const p = pr({match: 1, next: 5})
      p.becomeSnapshot(10)
      expect(p).to.deep.include({state: ProgressState.Snapshot, match: 1, next: 11, pendingSnapshot: 10, sentCommit: 10})
    })

    it('resetState clears pause, pending snapshot and inflights', () => {
      const p = pr({match: 1, next: 2})
      p.becomeReplicate()
      p.sentEntries(1, 0)
      p.pendingSnapshot = 3
      p.msgAppFlowPaused = true
      p.resetState(ProgressState.Probe)
      expect(p).to.deep.include({state: ProgressState.Probe, pendingSnapshot: 0, msgAppFlowPaused: false})
      expect(p.inflights.count()).to.equal(0)
    })
  })

  describe('sentEntries', () => {
    it('in Replicate advances next, fills inflights and pauses when they are full', () => {
      const p = pr({match: 0, next: 1})
      p.becomeReplicate()
      p.sentEntries(2, 0)
      expect(p.next).to.equal(3)
      expect(p.inflights.indexes()).to.deep.equal([2])
      for (let i = 0; i < 3; i++) p.sentEntries(1, 0)
      expect(p.inflights.full()).to.equal(true)
      expect(p.msgAppFlowPaused).to.equal(true)
      expect(p.isPaused()).to.equal(true)
    })

    it('in Replicate an empty append changes nothing but recomputes the pause', () => {
      const p = pr({match: 0, next: 1})
      p.becomeReplicate()
      p.msgAppFlowPaused = true
      p.sentEntries(0, 0)
      expect(p).to.deep.include({next: 1, msgAppFlowPaused: false})
    })

    it('in Probe pauses after a non-empty append only', () => {
      const p = pr({match: 0, next: 1})
      p.sentEntries(0, 0)
      expect(p.isPaused()).to.equal(false)
      p.sentEntries(1, 0)
      expect(p.isPaused()).to.equal(true)
      expect(p.next).to.equal(1)
    })

    it('in Snapshot is a bug', () => {
      const p = pr()
      p.becomeSnapshot(5)
      expect(() => p.sentEntries(1, 0)).to.throw(RaftInvariantError, 'unhandled state StateSnapshot')
    })
  })

  describe('commit bookkeeping', () => {
    it('canBumpCommit only when the index is above sentCommit and the follower can take it', () => {
      const p = pr({match: 0, next: 5, sentCommit: 2})
      expect(p.canBumpCommit(2)).to.equal(false)
      expect(p.canBumpCommit(3)).to.equal(true)
      p.updateSentCommit(4)
      expect(p.sentCommit).to.equal(4)
      // sentCommit has reached next-1: nothing more can be told.
      expect(p.canBumpCommit(10)).to.equal(false)
    })
  })

  describe('maybeUpdate', () => {
    it('ignores stale acknowledgements', () => {
      const p = pr({match: 3, next: 5})
      expect(p.maybeUpdate(2)).to.equal(false)
      expect(p.maybeUpdate(3)).to.equal(false)
      expect(p).to.deep.include({match: 3, next: 5})
    })

    it('raises match, keeps next above it and unpauses', () => {
      const p = pr({match: 3, next: 5})
      p.msgAppFlowPaused = true
      expect(p.maybeUpdate(4)).to.equal(true)
      expect(p).to.deep.include({match: 4, next: 5, msgAppFlowPaused: false})
      expect(p.maybeUpdate(7)).to.equal(true)
      expect(p).to.deep.include({match: 7, next: 8})
    })
  })

  describe('maybeDecrTo', () => {
    it('in Replicate ignores rejections at or below match', () => {
      const p = pr({match: 5, next: 10, state: ProgressState.Replicate})
      expect(p.maybeDecrTo(5, 5)).to.equal(false)
      expect(p.maybeDecrTo(4, 4)).to.equal(false)
      expect(p.next).to.equal(10)
    })

    it('in Replicate falls back to match+1 and regresses sentCommit', () => {
      const p = pr({match: 5, next: 10, state: ProgressState.Replicate, sentCommit: 8})
      expect(p.maybeDecrTo(9, 9)).to.equal(true)
      expect(p).to.deep.include({next: 6, sentCommit: 5})
    })

    it('in Probe ignores rejections of anything but the last probe (next-1)', () => {
      const p = pr({match: 0, next: 10})
      expect(p.maybeDecrTo(5, 5)).to.equal(false)
      expect(p.next).to.equal(10)
    })

    it('in Probe moves next to min(rejected, hint+1), never below match+1, and unpauses', () => {
      const p = pr({match: 0, next: 10, sentCommit: 9})
      p.msgAppFlowPaused = true
      expect(p.maybeDecrTo(9, 4)).to.equal(true)
      expect(p).to.deep.include({next: 5, sentCommit: 4, msgAppFlowPaused: false})
      // A hint beyond the rejected index does not raise next.
      expect(p.maybeDecrTo(4, 100)).to.equal(true)
      expect(p.next).to.equal(4)
      const q = pr({match: 3, next: 10})
      expect(q.maybeDecrTo(9, 0)).to.equal(true)
      expect(q.next).to.equal(4)
      // Next never drops to match (a rejection at next-1 with next-1 == match is a no-op move).
      const r = pr({match: 3, next: 4})
      expect(r.maybeDecrTo(3, 0)).to.equal(true)
      expect(r.next).to.equal(4)
    })
  })

  describe('isPaused and toString', () => {
    it('is paused in Snapshot always, otherwise when msgAppFlowPaused', () => {
      const p = pr({match: 0, next: 1})
      expect(p.isPaused()).to.equal(false)
      p.msgAppFlowPaused = true
      expect(p.isPaused()).to.equal(true)
      p.becomeReplicate()
      expect(p.isPaused()).to.equal(false)
      p.msgAppFlowPaused = true
      expect(p.isPaused()).to.equal(true)
      p.becomeSnapshot(4)
      expect(p.msgAppFlowPaused).to.equal(false)
      expect(p.isPaused()).to.equal(true)
    })

    it('prints like etcd', () => {
      const p = pr({match: 1, next: 2})
      p.recentActive = true
      expect(p.toString()).to.equal('StateProbe match=1 next=2')
      p.isLearner = true
      p.recentActive = false
      p.becomeSnapshot(9)
      expect(p.toString()).to.equal('StateSnapshot match=1 next=10 learner paused pendingSnap=9 inactive')
      const q = pr({match: 0, next: 1})
      q.recentActive = true
      q.becomeReplicate()
      q.sentEntries(1, 0)
      expect(q.toString()).to.equal('StateReplicate match=0 next=2 inflight=1')
      for (let i = 0; i < 3; i++) q.sentEntries(1, 0)
      expect(q.toString()).to.equal('StateReplicate match=0 next=5 paused inflight=4[full]')
    })
  })
})
