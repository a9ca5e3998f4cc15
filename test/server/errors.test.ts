import {expect} from 'chai'
import {status} from '@grpc/grpc-js'
import {KvError} from '../../src/kv/errors.js'
import {ProposalDroppedError} from '../../src/raft/errors.js'
import {decodeDetail, encodeDetail} from '../../src/raftpb/metadata.js'
import {
  DETAIL_KEY, ETCD_ERRORS, etcdError, LEADER_HINT_KEY, notLeader, requestTooLarge, RETRY_SAFE_KEY, toServiceError,
  tooManyRequests,
} from '../../src/server/errors.js'
import {LoopStoppedError} from '../../src/server/loop.js'
import {ETCD_ERRORS as OBSERVED} from '../compat/etcd_facts.js'
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

  it('maps a waiter\'s deadline to etcd\'s "request timed out" with the reason as detail', () => {
    const se = toServiceError(new DeadlineError('the write did not complete within 5 ms'))
    expect([se.code, se.details]).to.deep.equal([status.UNAVAILABLE, 'etcdserver: request timed out'])
    expect(se.metadata!.get(DETAIL_KEY)).to.deep.equal(['the write did not complete within 5 ms'])
  })

  it('maps KV errors to etcd\'s codes and texts, keeping raftctl\'s explanation as detail', () => {
    const compacted = toServiceError(new KvError('COMPACTED', 'revision 3 has been compacted (the oldest revision kept is 7)', 7))
    expect([compacted.code, compacted.details]).to.deep.equal([status.OUT_OF_RANGE, OBSERVED.compacted.details])
    expect(compacted.metadata!.get(DETAIL_KEY)).to.deep.equal(['revision 3 has been compacted (the oldest revision kept is 7)'])
    const codes: Record<string, keyof typeof OBSERVED> = {
      FUTURE_REVISION: 'futureRevision', EMPTY_KEY: 'emptyKey', KEY_NOT_FOUND: 'keyNotFound', VALUE_PROVIDED: 'valueProvided',
      LEASE_PROVIDED: 'leaseProvided', TOO_MANY_OPS: 'tooManyOps', DUPLICATE_KEY: 'duplicateKey', LEASE_NOT_FOUND: 'leaseNotFound',
    }
    for (const [code, kind] of Object.entries(codes)) {
      const se = toServiceError(new KvError(code as KvError['code'], 'why'))
      expect([status[se.code!], se.details], code).to.deep.equal([OBSERVED[kind].code, OBSERVED[kind].details])
    }
    const bad = toServiceError(new KvError('INVALID_REQUEST', 'bad'))
    expect([bad.code, bad.details, bad.metadata!.get(DETAIL_KEY)]).to.deep.equal([status.INVALID_ARGUMENT, 'bad', []])
  })

  it('answers every etcd error exactly as the real etcd 3.4 does', () => {
    for (const [kind, observed] of Object.entries(OBSERVED)) {
      const ours = ETCD_ERRORS[kind as keyof typeof ETCD_ERRORS]
      if (ours === undefined) continue // errors of services raftctl does not serve yet (auth)
      expect([status[ours.code], ours.message], kind).to.deep.equal([observed.code, observed.details])
    }
    const se = toServiceError(etcdError('memberNotFound', 'node 9 is not a member of the cluster'))
    expect([status[se.code!], se.details]).to.deep.equal(['NOT_FOUND', 'etcdserver: member not found'])
    expect(se.metadata!.get(DETAIL_KEY)).to.deep.equal(['node 9 is not a member of the cluster'])
  })

  it('maps dropped proposals: no leader, overload, and a leader change are safe to retry', () => {
    const cases: Array<[ProposalDroppedError, status, string]> = [
      [new ProposalDroppedError('no-leader', 'no leader at term 4'), status.UNAVAILABLE, 'etcdserver: no leader'],
      [new ProposalDroppedError('too-many-uncommitted-bytes', 'over 1 MiB'), status.RESOURCE_EXHAUSTED, 'etcdserver: too many requests'],
      [new ProposalDroppedError('leader-stepping-down', 'the leader is leaving'), status.UNAVAILABLE, 'etcdserver: leader changed'],
    ]
    for (const [err, code, text] of cases) {
      const se = toServiceError(err)
      expect([se.code, se.details], err.reason).to.deep.equal([code, text])
      expect(se.metadata!.get(RETRY_SAFE_KEY), err.reason).to.deep.equal(['1'])
      expect(String(se.metadata!.get(DETAIL_KEY)[0]), err.reason).to.include(err.detail)
    }
    const stopped = toServiceError(new LoopStoppedError('the node is stopping'))
    expect([stopped.code, stopped.details]).to.deep.equal([status.UNAVAILABLE, 'etcdserver: server stopped'])
  })

  it('sends a detail with any character as printable ASCII that decodes back to it', () => {
    const text = 'key "caf\u00e9 100%" \u2014 a\nb \u{1f600}'
    const encoded = encodeDetail(text)
    expect(encoded).to.match(/^[ -~]*$/)
    expect(decodeDetail(encoded)).to.equal(text)
    const se = toServiceError(etcdError('keyNotFound', text))
    expect(decodeDetail(String(se.metadata!.get(DETAIL_KEY)[0]))).to.equal(text)
    expect(decodeDetail(encodeDetail('x'.repeat(5000))).length, 'long details are cut').to.equal(2000)
    expect(decodeDetail('100%'), 'a malformed escape is kept').to.equal('100%')
  })

  it('answers an overloaded node etcd\'s RESOURCE_EXHAUSTED "too many requests", safe to retry, naming the bound in the detail (issue 11 §3)', () => {
    const dropped = toServiceError(new ProposalDroppedError('too-many-uncommitted-bytes',
      'the uncommitted log would exceed maxUncommittedSize (1048576 bytes)'))
    expect([dropped.code, dropped.details]).to.deep.equal([status.RESOURCE_EXHAUSTED, 'etcdserver: too many requests'])
    expect(dropped.metadata!.get(RETRY_SAFE_KEY)).to.deep.equal(['1'])
    expect(dropped.metadata!.get(DETAIL_KEY)).to.deep.equal(['the uncommitted log would exceed maxUncommittedSize (1048576 bytes), ' +
      'the limit set by --max-uncommitted-bytes; retry shortly'])
    const busy = toServiceError(tooManyRequests('1024 proposals already wait (--max-queued-proposals 1024)'))
    expect([busy.code, busy.details, busy.metadata!.get(RETRY_SAFE_KEY), busy.metadata!.get(DETAIL_KEY)]).to.deep.equal([
      status.RESOURCE_EXHAUSTED, 'etcdserver: too many requests', ['1'],
      ['1024 proposals already wait (--max-queued-proposals 1024); retry shortly']])
  })

  it('answers a request over --max-request-bytes with etcd\'s "request is too large", naming size and limit in the detail', () => {
    const se = toServiceError(requestTooLarge(2_097_160, 1_572_864))
    expect([status[se.code!], se.details]).to.deep.equal([OBSERVED.requestTooLarge.code, OBSERVED.requestTooLarge.details])
    expect(se.metadata!.get(DETAIL_KEY)).to.deep.equal(['the request is 2097160 bytes, more than the 1572864 bytes --max-request-bytes allows'])
  })
})
