/**
 * Small helpers shared by the core: entry sizes, size-limited slicing, message classification
 * and byte-string keys. Mirrors etcd-io/raft util.go.
 */
import {RaftInvariantError} from './errors.js'
import {type Entry, type HardState, MessageType} from './types.js'

/** Throws a RaftInvariantError: the equivalent of etcd-raft's panic for a broken invariant. */
export function panic(message: string): never {
  throw new RaftInvariantError(message)
}

/** Node id 0 means "no node" (no leader, no vote). */
export const NONE = 0

/**
 * The size of an entry as counted against maxSizePerMsg and by Storage.entries(maxSize):
 * the bytes of its data and context.
 */
export function entrySize(e: Entry): number {
  return e.data.length + e.context.length
}

/** The total entrySize of `ents`. */
export function entsSize(ents: readonly Entry[]): number {
  let s = 0
  for (const e of ents) s += entrySize(e)
  return s
}

/**
 * The payload size of an entry (its data bytes), as counted against maxUncommittedSize and the
 * inflight byte limit (etcd payloadSize). An empty entry has payload 0.
 */
export function payloadSize(e: Entry): number {
  return e.data.length
}

/** The total payloadSize of `ents`. */
export function payloadsSize(ents: readonly Entry[]): number {
  let s = 0
  for (const e of ents) s += payloadSize(e)
  return s
}

/**
 * Returns the longest prefix of `ents` whose total size is <= maxSize, but always at least one
 * entry when `ents` is non-empty (etcd limitSize).
 */
export function limitSize<T extends Entry>(ents: readonly T[], maxSize: number): T[] {
  if (ents.length === 0) return []
  let size = entrySize(ents[0])
  let limit = 1
  for (; limit < ents.length; limit++) {
    size += entrySize(ents[limit])
    if (size > maxSize) break
  }
  return ents.slice(0, limit)
}

/** Message types generated locally and never sent over the network (etcd IsLocalMsg). */
export function isLocalMsg(t: MessageType): boolean {
  return t === MessageType.MsgHup || t === MessageType.MsgBeat || t === MessageType.MsgUnreachable ||
    t === MessageType.MsgSnapStatus || t === MessageType.MsgCheckQuorum
}

/** Response message types, which must come from a known peer (etcd IsResponseMsg). */
export function isResponseMsg(t: MessageType): boolean {
  return t === MessageType.MsgAppendResponse || t === MessageType.MsgRequestVoteResponse ||
    t === MessageType.MsgHeartbeatResponse || t === MessageType.MsgUnreachable ||
    t === MessageType.MsgReadIndexResp || t === MessageType.MsgRequestPreVoteResponse
}

/** The response type of a (pre-)vote request type. */
export function voteRespMsgType(t: MessageType): MessageType {
  if (t === MessageType.MsgRequestVote) return MessageType.MsgRequestVoteResponse
  if (t === MessageType.MsgRequestPreVote) return MessageType.MsgRequestPreVoteResponse
  return panic(`not a vote message: ${MessageType[t]}`)
}

/** A string key for a byte string (one char per byte), usable in a Map. */
export function bytesKey(b: Uint8Array): string {
  let s = ''
  for (let i = 0; i < b.length; i += 4096) {
    s += String.fromCharCode(...b.subarray(i, i + 4096))
  }
  return s
}

/** Whether two byte strings are equal. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Whether two hard states are equal. */
export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit
}

/** Whether a hard state is the zero state. */
export function isEmptyHardState(h: HardState): boolean {
  return h.term === 0 && h.vote === 0 && h.commit === 0
}
