/**
 * Rebuilds a node's Raft state from RocksDB alone (DESIGN.md §3). Every record is decoded with a
 * checked decoder; a record that does not decode, or a log that breaks the layout's invariants
 * (a gap, an entry whose index differs from its key, terms going down), stops the open with a
 * StorageCorruptError naming the data dir, the key and the problem. Nothing is reset silently.
 */
import {
  decodeConfState, decodeEntry, decodeHardState, decodeSnapshot,
} from '../raftpb/codec.js'
import {
  type ConfState, EMPTY_BYTES, EMPTY_CONF_STATE, EMPTY_HARD_STATE, type Entry, type HardState,
  type Snapshot,
} from '../raft/types.js'
import type {Db} from './db.js'
import {OldFormatError, StorageCorruptError} from './errors.js'
import {
  APPLIED_KEY, CONF_STATE_KEY, HARD_STATE_KEY, IDENT_KEY, LOG_PREFIX, LOG_START_KEY,
  MEMBER_PREFIX, SNAPSHOT_KEY, describeKey, logIndexOf, prefixRangeEnd, readU64be,
} from './keys.js'
import {
  type Decoded, decodeIdentity, decodeIndexTerm, decodeMember, type Identity, type IndexTerm,
  type MemberInfo, STORAGE_FORMAT_VERSION, tryDecode,
} from './records.js'

/** Everything RaftStorage keeps in memory, as read from disk. */
export interface LoadedState {
  readonly identity: Identity
  readonly hardState: HardState
  readonly confState: ConfState
  readonly snapshot: Snapshot
  readonly logStart: IndexTerm
  readonly applied: IndexTerm
  readonly entries: Entry[]
  readonly members: Map<number, MemberInfo>
  /** Log keys at or below logStart (left by nothing in this version); removed at open. */
  readonly staleLogKeys: Uint8Array[]
}

export const EMPTY_SNAPSHOT: Snapshot = Object.freeze({
  data: EMPTY_BYTES, metadata: {confState: EMPTY_CONF_STATE, index: 0, term: 0},
})

/** Reads one record and decodes it, or returns `fallback` when the key is absent. */
async function readRecord<T>(
  db: Db, dir: string, key: Uint8Array, decode: (b: Uint8Array) => Decoded<T>, fallback: T,
): Promise<T> {
  const raw = await db.get(key)
  if (raw === undefined) return fallback
  const d = decode(raw)
  if (!d.ok) throw new StorageCorruptError(dir, describeKey(key), d.problem)
  return d.value
}

/** Reads the identity record; undefined for a database that was never initialized. */
export async function readIdentity(db: Db, dir: string): Promise<Identity | undefined> {
  const raw = await db.get(IDENT_KEY)
  if (raw === undefined) return undefined
  if (raw.length > 0 && raw[0] < STORAGE_FORMAT_VERSION) throw new OldFormatError(dir, raw[0])
  const d = decodeIdentity(raw)
  if (!d.ok) throw new StorageCorruptError(dir, describeKey(IDENT_KEY), d.problem)
  return d.value
}

/** Returns true when the database holds no key at all. */
export async function isEmpty(db: Db): Promise<boolean> {
  for await (const _ of db.iterate({limit: 1, values: false})) return false
  return true
}

async function loadMembers(db: Db, dir: string): Promise<Map<number, MemberInfo>> {
  const out = new Map<number, MemberInfo>()
  for await (const [key, value] of db.iterate({gte: MEMBER_PREFIX, lt: prefixRangeEnd(MEMBER_PREFIX)})) {
    const where = describeKey(key)
    const id = key.length === 10 ? readU64be(key, 2) : undefined
    if (id === undefined) throw new StorageCorruptError(dir, where, 'a member key is "m/" + 8-byte id')
    const d = tryDecode(() => decodeMember(value))
    if (!d.ok) throw new StorageCorruptError(dir, where, d.problem)
    if (d.value.id !== id) throw new StorageCorruptError(dir, where, `holds member ${d.value.id}, not ${id}`)
    out.set(id, d.value)
  }
  return out
}

/** Loads the log after `start`, checking contiguity, key/index agreement and term order. */
async function loadLog(db: Db, dir: string, start: IndexTerm): Promise<{entries: Entry[], stale: Uint8Array[]}> {
  const entries: Entry[] = []
  const stale: Uint8Array[] = []
  let prevTerm = start.term
  for await (const [key, value] of db.iterate({gte: LOG_PREFIX, lt: prefixRangeEnd(LOG_PREFIX)})) {
    const where = `log entry ${describeKey(key)}`
    const index = logIndexOf(key)
    if (index === undefined) throw new StorageCorruptError(dir, where, 'a log key is "l/" + 8-byte index')
    if (index <= start.index) {
      stale.push(key)
      continue
    }
    const expected = start.index + entries.length + 1
    if (index !== expected) {
      throw new StorageCorruptError(dir, where, `the log has a gap: expected index ${expected}, found ${index}`)
    }
    const d = tryDecode(() => decodeEntry(value))
    if (!d.ok) throw new StorageCorruptError(dir, where, d.problem)
    const e = d.value
    if (e.index !== index) throw new StorageCorruptError(dir, where, `holds entry index ${e.index}, not ${index}`)
    if (e.term < 1 || e.term < prevTerm) {
      throw new StorageCorruptError(dir, where, `term ${e.term} is below the previous term ${prevTerm} (or 0)`)
    }
    prevTerm = e.term
    entries.push(e)
  }
  return {entries, stale}
}

/** Checks the relations between records that a correct writer always keeps. */
function checkInvariants(dir: string, s: Omit<LoadedState, 'identity' | 'members' | 'staleLogKeys'>): void {
  const last = s.logStart.index + s.entries.length
  const snapIndex = s.snapshot.metadata.index
  if (snapIndex < s.logStart.index) {
    throw new StorageCorruptError(dir, describeKey(LOG_START_KEY),
      `the log starts after index ${s.logStart.index} but the latest snapshot covers only ${snapIndex}`)
  }
  if (s.hardState.commit > last || s.hardState.commit < s.logStart.index) {
    throw new StorageCorruptError(dir, describeKey(HARD_STATE_KEY),
      `commit index ${s.hardState.commit} is outside the log [${s.logStart.index}, ${last}]`)
  }
  if (s.applied.index > s.hardState.commit) {
    throw new StorageCorruptError(dir, describeKey(APPLIED_KEY),
      `applied index ${s.applied.index} is above the commit index ${s.hardState.commit}`)
  }
}

/** Loads the complete state of an initialized data dir. */
export async function loadState(db: Db, dir: string, identity: Identity): Promise<LoadedState> {
  const decode = <T>(f: (b: Uint8Array) => T) => (b: Uint8Array): Decoded<T> => tryDecode(() => f(b))
  const hardState = await readRecord(db, dir, HARD_STATE_KEY, decode(decodeHardState), EMPTY_HARD_STATE)
  const confState = await readRecord(db, dir, CONF_STATE_KEY, decode(decodeConfState), EMPTY_CONF_STATE)
  const snapshot = await readRecord(db, dir, SNAPSHOT_KEY, decode(decodeSnapshot), EMPTY_SNAPSHOT)
  const logStart = await readRecord(db, dir, LOG_START_KEY, decodeIndexTerm, {index: 0, term: 0})
  const applied = await readRecord(db, dir, APPLIED_KEY, decodeIndexTerm, {index: 0, term: 0})
  const members = await loadMembers(db, dir)
  const {entries, stale} = await loadLog(db, dir, logStart)
  const state = {hardState, confState, snapshot, logStart, applied, entries}
  checkInvariants(dir, state)
  return {...state, identity, members, staleLogKeys: stale}
}
