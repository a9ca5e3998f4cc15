// The conf-change byte codec (eraftpb.ConfChange / ConfChangeV2) and the V1/V2 helpers of
// etcd-io/raft raftpb/confchange.go.
import {BinaryWriter} from '@bufbuild/protobuf/wire'
import {expect} from 'chai'
import {
  asV2, decodeConfChange, encodeConfChange, enterJoint, LEAVE_JOINT, leaveJoint,
} from '../../../src/raft/conf_change.js'
import {ConfChangeError} from '../../../src/raft/errors.js'
import {
  type ConfChange, ConfChangeTransition, ConfChangeType, type ConfChangeV2, EntryType,
} from '../../../src/raft/types.js'
import * as wire from '../../../src/generated/eraftpb.js'

const ctx = new TextEncoder().encode('peer=http://n4:2380')
const v1: ConfChange = {kind: 'v1', id: 42, type: ConfChangeType.AddLearnerNode, nodeId: 4, context: ctx}
const v2: ConfChangeV2 = {
  kind: 'v2', transition: ConfChangeTransition.Explicit, context: ctx,
  changes: [{type: ConfChangeType.AddNode, nodeId: 4}, {type: ConfChangeType.RemoveNode, nodeId: 1}],
}

function entry(entryType: EntryType, data: Uint8Array) {
  return {entryType, data, index: 7}
}

describe('conf-change codec', () => {
  it('round-trips V1 through EntryConfChange bytes', () => {
    expect(decodeConfChange(entry(EntryType.EntryConfChange, encodeConfChange(v1)))).to.deep.equal(v1)
  })

  it('round-trips V2 through EntryConfChangeV2 bytes', () => {
    expect(decodeConfChange(entry(EntryType.EntryConfChangeV2, encodeConfChange(v2)))).to.deep.equal(v2)
  })

  it('writes standard eraftpb bytes that the generated decoder reads', () => {
    const w = wire.ConfChange.decode(encodeConfChange(v1))
    expect(w).to.deep.include({id: 42, nodeId: 4, changeType: wire.ConfChangeType.AddLearnerNode})
    const w2 = wire.ConfChangeV2.decode(encodeConfChange(v2))
    expect(w2.changes).to.deep.equal([
      {changeType: wire.ConfChangeType.AddNode, nodeId: 4}, {changeType: wire.ConfChangeType.RemoveNode, nodeId: 1},
    ])
  })

  it('the empty ConfChangeV2 that leaves a joint config encodes to zero bytes', () => {
    const b = encodeConfChange(LEAVE_JOINT)
    expect(b.length).to.equal(0)
    const cc = decodeConfChange(entry(EntryType.EntryConfChangeV2, b))
    expect(cc.kind === 'v2' && leaveJoint(cc)).to.equal(true)
  })

  it('refuses a normal entry', () => {
    expect(() => decodeConfChange(entry(EntryType.EntryNormal, new Uint8Array(0))))
      .to.throw(ConfChangeError, /entry 7 .* is not a conf change/)
  })

  it('refuses truncated bytes', () => {
    const b = encodeConfChange(v2)
    expect(() => decodeConfChange(entry(EntryType.EntryConfChangeV2, b.subarray(0, b.length - 3))))
      .to.throw(ConfChangeError, /cannot decode ConfChangeV2/)
  })

  it('refuses a node id above 2^53-1 instead of rounding it', () => {
    const b = new BinaryWriter().uint32(24).uint64(2n ** 53n + 1n).finish()
    expect(() => decodeConfChange(entry(EntryType.EntryConfChange, b))).to.throw(ConfChangeError, /ConfChange/)
    const single = new BinaryWriter().uint32(16).uint64(2n ** 60n).finish()
    const b2 = new BinaryWriter().uint32(18).bytes(single).finish()
    expect(() => decodeConfChange(entry(EntryType.EntryConfChangeV2, b2))).to.throw(ConfChangeError)
  })

  it('refuses unknown enum values', () => {
    const badType = new BinaryWriter().uint32(16).int32(9).finish()
    expect(() => decodeConfChange(entry(EntryType.EntryConfChange, badType))).to.throw(ConfChangeError, /unknown conf change type 9/)
    const badTransition = new BinaryWriter().uint32(8).int32(5).finish()
    expect(() => decodeConfChange(entry(EntryType.EntryConfChangeV2, badTransition)))
      .to.throw(ConfChangeError, /transition has unknown value 5/)
    const negType = new BinaryWriter().uint32(16).int32(-1).finish()
    expect(() => decodeConfChange(entry(EntryType.EntryConfChange, negType))).to.throw(ConfChangeError)
  })

  it('refuses to encode ids that are not safe integers', () => {
    expect(() => encodeConfChange({...v1, nodeId: 2 ** 53})).to.throw(ConfChangeError, /node_id/)
    expect(() => encodeConfChange({...v1, nodeId: -1})).to.throw(ConfChangeError)
    expect(() => encodeConfChange({...v2, changes: [{type: 17 as ConfChangeType, nodeId: 1}]})).to.throw(ConfChangeError)
  })
})

describe('conf-change helpers (etcd raftpb/confchange.go)', () => {
  it('asV2 turns a V1 change into one Auto change keeping the context', () => {
    expect(asV2(v1)).to.deep.equal({
      kind: 'v2', transition: ConfChangeTransition.Auto, context: ctx,
      changes: [{type: ConfChangeType.AddLearnerNode, nodeId: 4}],
    })
    expect(asV2(v2)).to.equal(v2)
  })

  it('enterJoint: simple for a single Auto change, joint otherwise, autoLeave unless Explicit', () => {
    const one = [{type: ConfChangeType.AddNode, nodeId: 2}]
    const two = [...one, {type: ConfChangeType.AddNode, nodeId: 3}]
    const cc = (transition: ConfChangeTransition, changes = one): ConfChangeV2 =>
      ({kind: 'v2', transition, changes, context: new Uint8Array(0)})
    expect(enterJoint(cc(ConfChangeTransition.Auto))).to.deep.equal({autoLeave: false, ok: false})
    expect(enterJoint(cc(ConfChangeTransition.Auto, two))).to.deep.equal({autoLeave: true, ok: true})
    expect(enterJoint(cc(ConfChangeTransition.Implicit))).to.deep.equal({autoLeave: true, ok: true})
    expect(enterJoint(cc(ConfChangeTransition.Explicit))).to.deep.equal({autoLeave: false, ok: true})
    expect(enterJoint(cc(ConfChangeTransition.Explicit, two))).to.deep.equal({autoLeave: false, ok: true})
    expect(() => enterJoint(cc(9 as ConfChangeTransition))).to.throw(ConfChangeError)
  })

  it('leaveJoint: an Auto transition without changes, whatever the context', () => {
    expect(leaveJoint(LEAVE_JOINT)).to.equal(true)
    expect(leaveJoint({...LEAVE_JOINT, context: ctx})).to.equal(true)
    expect(leaveJoint({...LEAVE_JOINT, transition: ConfChangeTransition.Explicit})).to.equal(false)
    expect(leaveJoint(asV2(v1))).to.equal(false)
  })
})
