/**
 * DEADLINE_EXCEEDED in the client: a server that gave up on its own (a proposal not applied in
 * time, a leadership transfer that did not happen) keeps its reason; grpc-js's own deadline
 * becomes "<operation> timed out waiting for <endpoint>".
 */
import {expect} from 'chai'
import {Metadata, status} from '@grpc/grpc-js'
import {toClientError} from '../../src/client/rpc.js'

const deadline = (details: string) => ({code: status.DEADLINE_EXCEEDED, details, message: `4 DEADLINE_EXCEEDED: ${details}`, metadata: new Metadata()})

describe('client: deadline messages', () => {
  it('keeps the reason a server gave with DEADLINE_EXCEEDED', () => {
    const reason = 'leadership did not move to node 3 within 4750 ms (the leader is node 1); check that it is reachable and caught up'
    const e = toClientError(deadline(reason), 'leader transfer', '127.0.0.1:2379')
    expect(e.codeName).to.equal('DEADLINE_EXCEEDED')
    expect(e.message).to.equal(reason)
  })

  it('names the operation and endpoint when the client\'s own deadline passed', () => {
    for (const d of ['Deadline exceeded', 'Deadline exceeded after 5.002s,LB pick: 0.001s', '']) {
      const e = toClientError(deadline(d), 'put', '127.0.0.1:2379')
      expect(e.message, d).to.equal('put timed out waiting for 127.0.0.1:2379')
    }
  })
})
