import {expect} from 'chai'
import {status} from '@grpc/grpc-js'
import {KvError} from '../../src/kv/errors.js'
import {ProposalDroppedError} from '../../src/raft/errors.js'
import {LEADER_HINT_KEY, notLeader, RETRY_SAFE_KEY, toServiceError, tooManyRequests} from '../../src/server/errors.js'
import {DeadlineError} from '../../src/server/wait.js'

describe('server/errors', () => {
  it('answers a not-leader refusal with the leader hint when the leader address is known', () => {
    const se = toServiceError(notLeader(2, 1, '127.0.0.1:2379'))
    expect(se.code).to.equal(status.FAILED_PRECONDITION)
    expect(se.details).to.equal('node 2 is not the leader; the leader is node 1 at 127.0.0.1:2379')
    expect(se.metadata!.get(LEADER_HINT_KEY)).to.deep.equal(['127.0.0.1:2379'])
  })

  it('answers UNAVAILABLE, safe to retry, when no leader or no leader address is known', () => {
    for (const e of [notLeader(2, 0), notLeader(2, 1, undefined)]) {
      const se = toServiceError(e)
      expect(se.code).to.equal(status.UNAVAILABLE)
      expect(se.metadata!.get(RETRY_SAFE_KEY)).to.deep.equal(['1'])
      expect(se.metadata!.get(LEADER_HINT_KEY)).to.deep.equal([])
    }
  })

  it('maps a refused conf change to FAILED_PRECONDITION and a dropped proposal to a retry-safe UNAVAILABLE', () => {
    const refused = toServiceError(new ProposalDroppedError('conf-change-refused', 'conf change refused: pending'))
    expect(refused.code).to.equal(status.FAILED_PRECONDITION)
    expect(refused.metadata!.get(RETRY_SAFE_KEY)).to.deep.equal([])
    const dropped = toServiceError(new ProposalDroppedError('transfer-in-progress', 'transfer'))
    expect(dropped.code).to.equal(status.UNAVAILABLE)
    expect(dropped.metadata!.get(RETRY_SAFE_KEY)).to.deep.equal(['1'])
  })

  it('answers an overloaded node RESOURCE_EXHAUSTED, safe to retry, naming the bound (issue 11 §3)', () => {
    const dropped = toServiceError(new ProposalDroppedError('too-many-uncommitted-bytes',
      'the uncommitted log would exceed maxUncommittedSize (1048576 bytes)'))
    expect(dropped.code).to.equal(status.RESOURCE_EXHAUSTED)
    expect(dropped.metadata!.get(RETRY_SAFE_KEY)).to.deep.equal(['1'])
    expect(dropped.details).to.equal('too many requests: the uncommitted log would exceed maxUncommittedSize (1048576 bytes), ' +
      'the limit set by --max-uncommitted-bytes; retry shortly')
    const busy = toServiceError(tooManyRequests('1024 proposals already wait (--max-queued-proposals 1024)'))
    expect([busy.code, busy.details, busy.metadata!.get(RETRY_SAFE_KEY)]).to.deep.equal([status.RESOURCE_EXHAUSTED,
      'too many requests: 1024 proposals already wait (--max-queued-proposals 1024); retry shortly', ['1']])
  })

  it('maps deadlines and KV errors to their statuses', () => {
    expect(toServiceError(new DeadlineError('x')).code).to.equal(status.DEADLINE_EXCEEDED)
    expect(toServiceError(new KvError('INVALID_REQUEST', 'bad')).code).to.equal(status.INVALID_ARGUMENT)
    expect(toServiceError(new KvError('COMPACTED', 'old', 5)).code).to.equal(status.OUT_OF_RANGE)
  })
})
