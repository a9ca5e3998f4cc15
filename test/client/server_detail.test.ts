/**
 * raftctl's explanation of an error (trailing metadata `raftctl-detail`) is what the client shows
 * instead of etcd's bare text in the status message, also when it explains why a write's outcome
 * is unknown.
 */
import {expect} from 'chai'
import {Metadata, status} from '@grpc/grpc-js'
import {outcomeUnknownError, toClientError} from '../../src/client/rpc.js'
import {DETAIL_KEY, encodeDetail} from '../../src/raftpb/metadata.js'

function answer(code: status, details: string, detail?: string) {
  const metadata = new Metadata()
  if (detail !== undefined) metadata.set(DETAIL_KEY, encodeDetail(detail))
  return {code, details, message: `${code} ${status[code]}: ${details}`, metadata}
}

describe('client: raftctl-detail', () => {
  it('shows raftctl\'s explanation instead of etcd\'s text', () => {
    const why = 'learner 4 is not caught up: its match index 31 is 62% of the leader\'s last index 50; promotion needs at least 90%'
    const e = toClientError(answer(status.FAILED_PRECONDITION,
      'etcdserver: can only promote a learner member which is in sync with leader', why), 'member promote', '127.0.0.1:2379')
    expect([e.codeName, e.message]).to.deep.equal(['FAILED_PRECONDITION', why])
  })

  it('keeps etcd\'s text when no explanation came, and decodes one with any character', () => {
    expect(toClientError(answer(status.NOT_FOUND, 'etcdserver: member not found'), 'x', 'e').message).to.equal('etcdserver: member not found')
    expect(toClientError(answer(status.INVALID_ARGUMENT, 'etcdserver: key not found', 'key "café" does not exist'), 'x', 'e').message)
      .to.equal('key "café" does not exist')
  })

  it('says why a write timed out at the server from the explanation, once', () => {
    const err = answer(status.UNAVAILABLE, 'etcdserver: request timed out',
      'the write did not complete within 4000 ms; its outcome is unknown (it may still be applied), so check before repeating it')
    const e = outcomeUnknownError(err as never, {what: 'put', check: 'read the key back with raftctl kv get'}, '127.0.0.1:2379', 5000)
    expect(e.message).to.equal('put: the outcome is unknown, it may or may not have been applied: 127.0.0.1:2379 gave up: ' +
      'the write did not complete within 4000 ms; read the key back with raftctl kv get before repeating it')
    expect(e.outcomeUnknown).to.equal(true)
  })
})
