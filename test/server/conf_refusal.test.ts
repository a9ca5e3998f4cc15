/**
 * A conf change the Raft core refuses comes back to the client as FAILED_PRECONDITION with one
 * plain sentence (never as silent success): driven through a real RawNode, whose refusal is
 * mapped by the server's error mapping exactly as the Cluster service maps it. Also the
 * answer of a proposal that was not applied in time.
 */
import {expect} from 'chai'
import {status} from '@grpc/grpc-js'
import {
  ConfChangeTransition, ConfChangeType, type ConfChangeV2, EMPTY_BYTES, LEAVE_JOINT, MemoryStorage,
  ProposalDroppedError, RawNode, StateRole,
} from '../../src/raft/index.js'
import {confRefusalMessage, DETAIL_KEY, RETRY_SAFE_KEY, toServiceError} from '../../src/server/errors.js'
import {ProposalWaits} from '../../src/server/proposals.js'

/** Persists and advances every Ready (conf changes are left unapplied on purpose). */
function drain(rn: RawNode, s: MemoryStorage): void {
  while (rn.hasReady()) {
    const rd = rn.ready()
    if (rd.entries.length > 0) s.append(rd.entries)
    if (rd.hardState !== undefined) s.setHardState(rd.hardState)
    rn.advance(rd)
  }
}

const addLearner = (id: number): ConfChangeV2 => ({
  kind: 'v2', transition: ConfChangeTransition.Auto, context: EMPTY_BYTES,
  changes: [{type: ConfChangeType.AddLearnerNode, nodeId: id}],
})

function refusal(f: () => void): ProposalDroppedError {
  try {
    f()
  } catch (err) {
    expect(err).to.be.instanceOf(ProposalDroppedError)
    return err as ProposalDroppedError
  }
  throw new Error('expected the core to refuse the conf change')
}

describe('server/errors: conf changes refused by the core', () => {
  let s: MemoryStorage
  let rn: RawNode
  beforeEach(() => {
    s = MemoryStorage.withConfState({voters: [1]})
    rn = new RawNode({id: 1, electionTick: 10, heartbeatTick: 1, random: () => 0}, s)
    rn.campaign()
    drain(rn, s)
    expect(rn.status().role).to.equal(StateRole.Leader)
  })

  it('answers a second change while one is pending with FAILED_PRECONDITION and a plain sentence', () => {
    rn.proposeConfChange(addLearner(2))
    const pendingAt = rn.raft.raftLog.lastIndex()
    const err = refusal(() => rn.proposeConfChange(addLearner(3)))
    expect(err.reason).to.equal('conf-change-refused')
    const se = toServiceError(err)
    expect(se.code).to.equal(status.FAILED_PRECONDITION)
    expect(se.metadata!.get(RETRY_SAFE_KEY), 'a refused change is not silently retried').to.deep.equal([])
    expect(se.details).to.equal(`conf change refused: the leader has applied its log only up to index ${pendingAt - 1}, ` +
      `and index ${pendingAt} may hold another membership change still in progress; retry in a moment`)
    expect(se.details).to.not.match(/\n/)
  })

  it('passes the core\'s other reasons through without the "proposal dropped" prefix', () => {
    const err = refusal(() => rn.proposeConfChange(LEAVE_JOINT))
    const se = toServiceError(err)
    expect(se.code).to.equal(status.FAILED_PRECONDITION)
    expect(se.details).to.match(/^conf change refused at config \(1\): not in joint state/)
    expect(confRefusalMessage(new ProposalDroppedError('conf-change-refused', 'conf change refused: x'))).to.equal('conf change refused: x')
  })
})

describe('server/proposals: the deadline message of a proposal', () => {
  it('is etcd\'s "request timed out" (UNAVAILABLE, not safe to retry), with the unknown outcome in one sentence of detail', async () => {
    const t = new ProposalWaits<string>()
    const err = await t.register(5, 2, 10, 'the write').catch((e: unknown) => e as Error)
    const se = toServiceError(err)
    expect(se.code).to.equal(status.UNAVAILABLE)
    expect(se.details).to.equal('etcdserver: request timed out')
    expect(se.metadata!.get(RETRY_SAFE_KEY), 'the write may still be applied').to.deep.equal([])
    expect(se.metadata!.get(DETAIL_KEY)).to.deep.equal([
      'the write did not complete within 10 ms; its outcome is unknown (it may still be applied), so check before repeating it'])
    expect(t.size).to.equal(0)
  })
})
