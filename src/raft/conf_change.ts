/**
 * Conf-change encoding and the V1/V2 helpers of etcd-io/raft raftpb/confchange.go.
 *
 * The data of an EntryConfChange / EntryConfChangeV2 entry is the protobuf encoding of
 * eraftpb.ConfChange / ConfChangeV2, so any eraftpb peer or tool can read a raftctl log. This is
 * the only file of the core that imports the generated wire code (DESIGN.md §1).
 */
import * as wire from '../generated/eraftpb.js'
import {ConfChangeError} from './errors.js'
import {
  type ConfChange, type ConfChangeSingle, ConfChangeTransition, ConfChangeType, type ConfChangeV2,
  type Entry, EntryType,
} from './types.js'

/** Either kind of conf change. */
export type AnyConfChange = ConfChange | ConfChangeV2

function checkId(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new ConfChangeError(`${field} ${String(v)} is not an integer in 0..2^53-1`)
  }
  return v
}

function checkType(field: string, v: unknown): ConfChangeType {
  if (v !== ConfChangeType.AddNode && v !== ConfChangeType.RemoveNode &&
      v !== ConfChangeType.AddLearnerNode && v !== ConfChangeType.UpdateNode) {
    throw new ConfChangeError(`${field} has unknown conf change type ${String(v)}`)
  }
  return v
}

function checkTransition(v: unknown): ConfChangeTransition {
  if (v !== ConfChangeTransition.Auto && v !== ConfChangeTransition.Implicit &&
      v !== ConfChangeTransition.Explicit) {
    throw new ConfChangeError(`ConfChangeV2.transition has unknown value ${String(v)}`)
  }
  return v
}

/** The entry type that carries `cc`. */
export function confChangeEntryType(cc: AnyConfChange): EntryType {
  return cc.kind === 'v1' ? EntryType.EntryConfChange : EntryType.EntryConfChangeV2
}

/**
 * Encodes a conf change as the protobuf bytes of eraftpb.ConfChange (V1) or ConfChangeV2.
 * Throws ConfChangeError on an id that is not a safe integer or an unknown type/transition.
 */
export function encodeConfChange(cc: AnyConfChange): Uint8Array {
  if (cc.kind === 'v1') {
    return wire.ConfChange.encode({
      id: checkId('ConfChange.id', cc.id),
      changeType: checkType('ConfChange.change_type', cc.type) as number as wire.ConfChangeType,
      nodeId: checkId('ConfChange.node_id', cc.nodeId),
      context: cc.context,
    }).finish()
  }
  if (cc.kind !== 'v2') throw new ConfChangeError(`unknown conf change kind ${String((cc as {kind: unknown}).kind)}`)
  return wire.ConfChangeV2.encode({
    transition: checkTransition(cc.transition) as number as wire.ConfChangeTransition,
    changes: cc.changes.map((c, i) => ({
      changeType: checkType(`ConfChangeV2.changes[${i}].change_type`, c.type) as number as wire.ConfChangeType,
      nodeId: checkId(`ConfChangeV2.changes[${i}].node_id`, c.nodeId),
    })),
    context: cc.context,
  }).finish()
}

function decodeBytes<T>(what: string, f: () => T): T {
  try {
    return f()
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err)
    throw new ConfChangeError(`cannot decode ${what}: ${reason}`)
  }
}

/**
 * Decodes the conf change carried by an EntryConfChange or EntryConfChangeV2 entry. Throws
 * ConfChangeError for any other entry type, truncated or malformed bytes, an id above 2^53-1 or
 * an unknown enum value: bytes from the log are never silently rounded or guessed.
 */
export function decodeConfChange(entry: Pick<Entry, 'entryType' | 'data' | 'index'>): AnyConfChange {
  if (entry.entryType === EntryType.EntryConfChange) {
    const w = decodeBytes('ConfChange', () => wire.ConfChange.decode(entry.data))
    return {
      kind: 'v1',
      id: checkId('ConfChange.id', w.id),
      type: checkType('ConfChange.change_type', w.changeType),
      nodeId: checkId('ConfChange.node_id', w.nodeId),
      context: w.context,
    }
  }
  if (entry.entryType === EntryType.EntryConfChangeV2) {
    const w = decodeBytes('ConfChangeV2', () => wire.ConfChangeV2.decode(entry.data))
    return {
      kind: 'v2',
      transition: checkTransition(w.transition),
      changes: w.changes.map((c, i) => ({
        type: checkType(`ConfChangeV2.changes[${i}].change_type`, c.changeType),
        nodeId: checkId(`ConfChangeV2.changes[${i}].node_id`, c.nodeId),
      })),
      context: w.context,
    }
  }
  throw new ConfChangeError(`entry ${entry.index} of type ${EntryType[entry.entryType] ?? entry.entryType} is not a conf change`)
}

/** Returns cc as a ConfChangeV2 (a V1 change becomes one Auto change, as etcd AsV2). */
export function asV2(cc: AnyConfChange): ConfChangeV2 {
  if (cc.kind === 'v2') return cc
  const change: ConfChangeSingle = {type: cc.type, nodeId: cc.nodeId}
  return {kind: 'v2', transition: ConfChangeTransition.Auto, changes: [change], context: cc.context}
}

/**
 * Whether cc must use joint consensus, and if so whether the joint config is left automatically
 * (Raft thesis §4.3). The simple protocol is used only for an Auto transition with at most one
 * change; Auto and Implicit joint configs are left automatically, Explicit ones by the
 * application proposing an empty ConfChangeV2.
 */
export function enterJoint(cc: ConfChangeV2): {autoLeave: boolean; ok: boolean} {
  if (cc.transition !== ConfChangeTransition.Auto || cc.changes.length > 1) {
    switch (cc.transition) {
      case ConfChangeTransition.Auto:
      case ConfChangeTransition.Implicit:
        return {autoLeave: true, ok: true}
      case ConfChangeTransition.Explicit:
        return {autoLeave: false, ok: true}
      default:
        throw new ConfChangeError(`unknown transition ${String(cc.transition)}`)
    }
  }
  return {autoLeave: false, ok: false}
}

/**
 * Whether cc leaves a joint config: an Auto transition with no changes (the context is ignored),
 * as etcd ConfChangeV2.LeaveJoint.
 */
export function leaveJoint(cc: ConfChangeV2): boolean {
  return cc.transition === ConfChangeTransition.Auto && cc.changes.length === 0
}

/** The empty ConfChangeV2 that leaves a joint configuration. */
export const LEAVE_JOINT: ConfChangeV2 = Object.freeze({
  kind: 'v2', transition: ConfChangeTransition.Auto, changes: [], context: new Uint8Array(0),
}) as ConfChangeV2
