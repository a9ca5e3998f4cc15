/**
 * Encoding of what the server itself writes into the Raft log (proto/raftctl/v1/internal.proto):
 * the context of conf-change entries and the server requests carried by normal entries marked
 * with SERVER_ENTRY_CONTEXT. Decoders check every integer; a malformed record is reported with
 * a WireDecodeError, and the applier treats it identically on every replica.
 */
import {ConfChangeContext, ServerRequest} from '../generated/raftctl/v1/internal.js'
import type {Member} from '../generated/raftctl/v1/member.js'
import {decodeWith, WireDecodeError} from '../raftpb/checked.js'
import {type MemberInfo, memberFromWire, memberToWire} from '../storage/records.js'

/** The context bytes of a normal entry whose data is a ServerRequest (not a KV request). */
export const SERVER_ENTRY_CONTEXT: Uint8Array = new TextEncoder().encode('raftctl/server-request/v1')

/** True when a normal entry's context marks it as a server request. */
export function isServerEntry(context: Uint8Array): boolean {
  if (context.length !== SERVER_ENTRY_CONTEXT.length) return false
  for (let i = 0; i < context.length; i++) if (context[i] !== SERVER_ENTRY_CONTEXT[i]) return false
  return true
}

/** The decoded context of a conf-change entry. */
export interface ConfContext {
  readonly requestId: number
  readonly members: readonly MemberInfo[]
}

export function encodeConfContext(c: ConfContext): Uint8Array {
  return ConfChangeContext.encode({requestId: c.requestId, members: c.members.map(memberToWire)}).finish()
}

/** Decodes a conf-change context; empty bytes (the core's auto-leave entry) give no members. */
export function decodeConfContext(b: Uint8Array): ConfContext {
  if (b.length === 0) return {requestId: 0, members: []}
  return decodeWith('raftctl.v1.ConfChangeContext', () => {
    const w = ConfChangeContext.decode(b)
    return {requestId: w.requestId, members: w.members.map(memberFromWire)}
  })
}

/** A change of a member's attributes; empty fields mean "unchanged". */
export interface MemberAttributes {
  readonly id: number
  readonly name: string
  readonly peerUrls: readonly string[]
  readonly clientUrls: readonly string[]
}

export function encodeServerRequest(requestId: number, attrs: MemberAttributes): Uint8Array {
  const m: Member = {id: attrs.id, name: attrs.name, peerUrls: [...attrs.peerUrls], clientUrls: [...attrs.clientUrls]}
  return ServerRequest.encode({requestId, memberAttributes: m}).finish()
}

export function decodeServerRequest(b: Uint8Array): {requestId: number, attributes: MemberAttributes} {
  return decodeWith('raftctl.v1.ServerRequest', () => {
    const w = ServerRequest.decode(b)
    if (w.memberAttributes === undefined) throw new WireDecodeError('raftctl.v1.ServerRequest carries no member_attributes')
    return {requestId: w.requestId, attributes: memberFromWire(w.memberAttributes)}
  })
}

/** Merges attributes into a member: only non-empty fields replace the old values. */
export function mergeAttributes(m: MemberInfo, a: MemberAttributes): MemberInfo {
  return {
    id: m.id,
    name: a.name !== '' ? a.name : m.name,
    peerUrls: a.peerUrls.length > 0 ? [...a.peerUrls] : m.peerUrls,
    clientUrls: a.clientUrls.length > 0 ? [...a.clientUrls] : m.clientUrls,
  }
}
