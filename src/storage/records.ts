/**
 * Value encodings of the storage's own fixed-size records (docs/storage-layout.md). Raft types
 * use their eraftpb protobuf encoding (src/raftpb); the small records here are fixed-width
 * big-endian integers with a version byte where the format might change. Every decoder checks
 * length, version and integer range and returns an error string instead of a value, so the
 * caller can name the data dir and the key.
 */
import * as memberpb from '../generated/raftctl/v1/member.js'
import {checkedUint, decodeWith, WireDecodeError} from '../raftpb/checked.js'
import {concat, readU64be, u64be} from './keys.js'

/**
 * The on-disk format version written into the identity record. Version 2 holds the MVCC
 * history (R/ and h/ records, v/meta version 2); version 1 kept only each key's latest value.
 */
export const STORAGE_FORMAT_VERSION = 2

/** Which cluster and node a data dir belongs to; written once when it is created. */
export interface Identity {
  readonly formatVersion: number
  readonly clusterId: number
  readonly nodeId: number
}

/** An index and the term of the entry at that index. */
export interface IndexTerm {
  readonly index: number
  readonly term: number
}

/** Member metadata: how to reach a node and what it is called. */
export interface MemberInfo {
  readonly id: number
  readonly name: string
  readonly peerUrls: readonly string[]
  readonly clientUrls: readonly string[]
}

/** The result of a checked decode: the value, or a sentence saying what is wrong. */
export type Decoded<T> = {readonly ok: true, readonly value: T} | {readonly ok: false, readonly problem: string}

const ok = <T>(value: T): Decoded<T> => ({ok: true, value})
const bad = <T>(problem: string): Decoded<T> => ({ok: false, problem})

/** identity: version (1 byte) | cluster id (u64 BE) | node id (u64 BE) = 17 bytes. */
export function encodeIdentity(id: Identity): Uint8Array {
  return concat(Uint8Array.of(id.formatVersion), u64be(id.clusterId), u64be(id.nodeId))
}

export function decodeIdentity(b: Uint8Array): Decoded<Identity> {
  if (b.length !== 17) return bad(`expected 17 bytes, found ${b.length}`)
  if (b[0] !== STORAGE_FORMAT_VERSION) {
    return bad(`storage format version ${b[0]} is not supported (this raftctl reads version ${STORAGE_FORMAT_VERSION})`)
  }
  const clusterId = readU64be(b, 1)
  const nodeId = readU64be(b, 9)
  if (clusterId === undefined || clusterId === 0) return bad('cluster id is 0 or above 2^53-1')
  if (nodeId === undefined || nodeId === 0) return bad('node id is 0 or above 2^53-1')
  return ok({formatVersion: b[0], clusterId, nodeId})
}

/** index (u64 BE) | term (u64 BE) = 16 bytes; used by r/logstart and r/applied. */
export function encodeIndexTerm(it: IndexTerm): Uint8Array {
  return concat(u64be(it.index), u64be(it.term))
}

export function decodeIndexTerm(b: Uint8Array): Decoded<IndexTerm> {
  if (b.length !== 16) return bad(`expected 16 bytes, found ${b.length}`)
  const index = readU64be(b, 0)
  const term = readU64be(b, 8)
  if (index === undefined || term === undefined) return bad('index or term is above 2^53-1')
  return ok({index, term})
}

export function encodeMember(m: MemberInfo): Uint8Array {
  return memberpb.Member.encode({
    id: m.id, name: m.name, peerUrls: [...m.peerUrls], clientUrls: [...m.clientUrls],
  }).finish()
}

/** Converts a wire Member with checked id (a safe integer >= 1); throws WireDecodeError. */
export function memberFromWire(w: memberpb.Member): MemberInfo {
  const id = checkedUint('Member.id', w.id)
  if (id === 0) throw new WireDecodeError('Member.id is 0, but node ids start at 1')
  return {id, name: w.name, peerUrls: w.peerUrls, clientUrls: w.clientUrls}
}

export function memberToWire(m: MemberInfo): memberpb.Member {
  return {id: m.id, name: m.name, peerUrls: [...m.peerUrls], clientUrls: [...m.clientUrls]}
}

/** Decodes a raftctl.v1.Member; throws WireDecodeError naming the problem. */
export function decodeMember(b: Uint8Array): MemberInfo {
  return decodeWith('raftctl.v1.Member', () => memberFromWire(memberpb.Member.decode(b)))
}

/** Encodes a member list ordered by id (the form used in snapshot files and conf-change contexts). */
export function encodeMemberList(members: readonly MemberInfo[]): Uint8Array {
  const sorted = [...members].sort((a, b) => a.id - b.id)
  return memberpb.MemberList.encode({members: sorted.map(memberToWire)}).finish()
}

/** Decodes a raftctl.v1.MemberList; throws WireDecodeError naming the problem. */
export function decodeMemberList(b: Uint8Array): MemberInfo[] {
  return decodeWith('raftctl.v1.MemberList',
    () => memberpb.MemberList.decode(b).members.map(memberFromWire))
}

/** Runs a throwing decoder and turns its error into a Decoded failure. */
export function tryDecode<T>(decode: () => T): Decoded<T> {
  try {
    return ok(decode())
  } catch (err) {
    return bad(err instanceof Error ? err.message : String(err))
  }
}
