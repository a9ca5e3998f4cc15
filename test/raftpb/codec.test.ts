import {expect} from 'chai'
import fc from 'fast-check'
import {BinaryWriter} from '@bufbuild/protobuf/wire'
import * as wire from '../../src/generated/eraftpb.js'
import {
  checkedUint, decodeConfState, decodeEntry, decodeHardState, decodeMessage, decodeSnapshot,
  encodeConfState, encodeEntry, encodeHardState, encodeMessage, encodeSnapshot, WireDecodeError,
} from '../../src/raftpb/index.js'
import {EntryType, type Message, MessageType, newEntry, newMessage} from '../../src/raft/types.js'

const safeUint = fc.integer({min: 0, max: Number.MAX_SAFE_INTEGER})
const bytes = fc.uint8Array({maxLength: 16})

describe('raftpb: checked conversion between core and wire types', () => {
  it('round-trips entries with any safe-integer term and index', () => {
    fc.assert(fc.property(safeUint, safeUint, bytes, bytes, fc.constantFrom(0, 1, 2),
      (term, index, data, context, t) => {
        const e = newEntry({term, index, data, context, entryType: t as EntryType})
        const back = decodeEntry(encodeEntry(e))
        expect(back).to.deep.equal({...e, data: back.data, context: back.context})
        expect([...back.data]).to.deep.equal([...data])
        expect([...back.context]).to.deep.equal([...context])
      }))
  })

  it('round-trips a message with entries and a snapshot', () => {
    const m: Message = newMessage({
      msgType: MessageType.MsgSnapshot, to: 2, from: 1, term: 7, logTerm: 6, index: 9, commit: 8,
      entries: [newEntry({term: 6, index: 10})],
      snapshot: {
        data: new Uint8Array([1, 2, 3]),
        metadata: {
          index: 9, term: 6,
          confState: {voters: [1, 2], learners: [4], votersOutgoing: [1, 2, 3], learnersNext: [3], autoLeave: true},
        },
      },
    })
    const back = decodeMessage(encodeMessage(m))
    expect(back.msgType).to.equal(MessageType.MsgSnapshot)
    expect(back.snapshot?.metadata).to.deep.equal(m.snapshot?.metadata)
    expect(back.entries.map((e) => [e.term, e.index])).to.deep.equal([[6, 10]])
    expect(decodeSnapshot(encodeSnapshot(m.snapshot!)).metadata.index).to.equal(9)
  })

  it('round-trips hard state and conf state', () => {
    expect(decodeHardState(encodeHardState({term: 3, vote: 2, commit: 9})))
      .to.deep.equal({term: 3, vote: 2, commit: 9})
    const cs = {voters: [1, 2, 3], learners: [5], votersOutgoing: [], learnersNext: [], autoLeave: false}
    expect(decodeConfState(encodeConfState(cs))).to.deep.equal(cs)
  })

  it('refuses a uint64 above 2^53-1 instead of rounding it', () => {
    const w = new BinaryWriter()
    w.uint32(16).uint64(2n ** 53n) // field 2 (term), varint
    expect(() => decodeEntry(w.finish())).to.throw(WireDecodeError, /eraftpb.Entry/)
    const h = new BinaryWriter()
    h.uint32(8).uint64(2n ** 64n - 1n)
    expect(() => decodeHardState(h.finish())).to.throw(WireDecodeError, /HardState/)
  })

  it('refuses truncated bytes with the type name', () => {
    const full = encodeEntry(newEntry({term: 1, index: 1, data: new Uint8Array(10)}))
    expect(() => decodeEntry(full.subarray(0, full.length - 3))).to.throw(WireDecodeError, /cannot decode eraftpb.Entry/)
  })

  it('refuses unknown enum values naming the field', () => {
    const e = wire.Entry.encode({entryType: 9 as wire.EntryType, term: 1, index: 1, data: new Uint8Array(), context: new Uint8Array(), syncLog: false}).finish()
    expect(() => decodeEntry(e)).to.throw(WireDecodeError, /Entry.entry_type has unknown value 9/)
    const m = wire.Message.encode({...wire.Message.decode(new Uint8Array()), msgType: 42 as wire.MessageType}).finish()
    expect(() => decodeMessage(m)).to.throw(WireDecodeError, /Message.msg_type/)
  })

  it('refuses a snapshot without metadata', () => {
    const s = wire.Snapshot.encode({data: new Uint8Array([1]), metadata: undefined}).finish()
    expect(() => decodeSnapshot(s)).to.throw(WireDecodeError, /metadata is missing/)
  })

  it('checkedUint accepts safe integers and refuses the rest', () => {
    expect(checkedUint('x', 5)).to.equal(5)
    expect(checkedUint('x', 5n)).to.equal(5)
    for (const bad of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, NaN, '3', 2n ** 60n]) {
      expect(() => checkedUint('field', bad)).to.throw(WireDecodeError, /field/)
    }
  })
})
