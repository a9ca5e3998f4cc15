import {expect} from 'chai'
import {
  decodeConfContext, decodeServerRequest, encodeConfContext, encodeServerRequest, isServerEntry,
  mergeAttributes, SERVER_ENTRY_CONTEXT,
} from '../../src/server/internal.js'
import {WireDecodeError} from '../../src/raftpb/checked.js'

describe('server/internal encodings', () => {
  const m = {id: 4, name: 'node4', peerUrls: ['127.0.0.1:2386'], clientUrls: ['127.0.0.1:2385']}

  it('round-trips a conf-change context and reads empty bytes as no members', () => {
    expect(decodeConfContext(encodeConfContext({requestId: 77, members: [m]}))).to.deep.equal({requestId: 77, members: [m]})
    expect(decodeConfContext(new Uint8Array(0))).to.deep.equal({requestId: 0, members: []})
  })

  it('refuses a context whose member id is 0 or garbage bytes', () => {
    expect(() => decodeConfContext(encodeConfContext({requestId: 1, members: [{...m, id: 0}]}))).to.throw(WireDecodeError)
    expect(() => decodeConfContext(Uint8Array.of(0x12, 0xff))).to.throw(WireDecodeError)
  })

  it('round-trips a server request and recognizes its entry context', () => {
    const b = encodeServerRequest(5, {id: 4, name: '', peerUrls: [], clientUrls: ['127.0.0.1:9']})
    expect(decodeServerRequest(b)).to.deep.equal({requestId: 5, attributes: {id: 4, name: '', peerUrls: [], clientUrls: ['127.0.0.1:9']}})
    expect(isServerEntry(SERVER_ENTRY_CONTEXT)).to.equal(true)
    expect(isServerEntry(new Uint8Array(0))).to.equal(false)
    expect(isServerEntry(new TextEncoder().encode('raftctl/server-request/v2'))).to.equal(false)
  })

  it('merges only the non-empty attributes', () => {
    expect(mergeAttributes(m, {id: 4, name: '', peerUrls: [], clientUrls: ['1.2.3.4:5']}))
      .to.deep.equal({...m, clientUrls: ['1.2.3.4:5']})
    expect(mergeAttributes(m, {id: 4, name: 'x', peerUrls: ['9.9.9.9:1'], clientUrls: []}))
      .to.deep.equal({...m, name: 'x', peerUrls: ['9.9.9.9:1']})
  })
})
