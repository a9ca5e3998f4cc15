// The queue of pending ReadIndex requests (etcd-io/raft read_only.go; Raft thesis §6.4).
import {expect} from 'chai'
import {ReadOnly} from '../../../src/raft/read_only.js'
import {type Message, MessageType, newEntry, newMessage} from '../../../src/raft/types.js'

const enc = new TextEncoder()
const dec = new TextDecoder()

function req(ctx: string, from = 0): Message {
  return newMessage({msgType: MessageType.MsgReadIndex, from, entries: [newEntry({term: 0, index: 0, data: enc.encode(ctx)})]})
}

function ack(ctx: string): Message {
  return newMessage({msgType: MessageType.MsgHeartbeatResponse, context: enc.encode(ctx)})
}

describe('ReadOnly', () => {
  it('records acknowledgements per request context', () => {
    const ro = new ReadOnly('safe')
    ro.addRequest(5, req('a'))
    expect([...ro.recvAck(1, enc.encode('a')).keys()]).to.deep.equal([1])
    expect([...ro.recvAck(2, enc.encode('a')).keys()]).to.deep.equal([1, 2])
    expect(ro.recvAck(2, enc.encode('unknown')).size).to.equal(0)
  })

  it('ignores a duplicate context', () => {
    const ro = new ReadOnly('safe')
    ro.addRequest(5, req('a'))
    ro.addRequest(9, req('a'))
    expect(ro.pendingCount()).to.equal(1)
    expect(ro.advance(ack('a')).map((rs) => rs.index)).to.deep.equal([5])
  })

  it('advance answers the acknowledged request and every request queued before it, in order', () => {
    const ro = new ReadOnly('safe')
    ro.addRequest(1, req('a'))
    ro.addRequest(2, req('b'))
    ro.addRequest(3, req('c'))
    expect(dec.decode(ro.lastPendingRequestCtx())).to.equal('c')
    const rss = ro.advance(ack('b'))
    expect(rss.map((rs) => [rs.index, dec.decode(rs.req.entries[0].data)])).to.deep.equal([[1, 'a'], [2, 'b']])
    expect(ro.pendingCount()).to.equal(1)
    expect(ro.advance(ack('zzz'))).to.deep.equal([])
    expect(ro.advance(ack('c')).map((rs) => rs.index)).to.deep.equal([3])
    expect(ro.lastPendingRequestCtx()).to.equal(undefined)
  })
})
