/**
 * Conversion between the core's plain types (src/raft/types.ts) and the generated eraftpb wire
 * types. `toWire` functions never fail; `fromWire` functions check every integer and enum and
 * throw WireDecodeError naming the field that was wrong.
 */
import * as wire from '../generated/eraftpb.js'
import {
  type ConfState, type Entry, EntryType, type HardState, type Message, MessageType,
  type Snapshot, type SnapshotMetadata,
} from '../raft/types.js'
import {checkedEnum, checkedInt, checkedUint, WireDecodeError} from './checked.js'

export function entryToWire(e: Entry): wire.Entry {
  return {
    entryType: e.entryType as number as wire.EntryType,
    term: e.term, index: e.index, data: e.data, context: e.context, syncLog: false,
  }
}

export function entryFromWire(w: wire.Entry): Entry {
  return {
    entryType: checkedEnum<EntryType>('Entry.entry_type', EntryType, w.entryType),
    term: checkedUint('Entry.term', w.term),
    index: checkedUint('Entry.index', w.index),
    data: w.data,
    context: w.context,
  }
}

export function confStateToWire(cs: ConfState): wire.ConfState {
  return {
    voters: [...cs.voters], learners: [...cs.learners], votersOutgoing: [...cs.votersOutgoing],
    learnersNext: [...cs.learnersNext], autoLeave: cs.autoLeave,
  }
}

function checkedIds(field: string, ids: readonly number[]): number[] {
  return ids.map((id) => checkedUint(field, id)).sort((a, b) => a - b)
}

export function confStateFromWire(w: wire.ConfState | undefined): ConfState {
  if (w === undefined) {
    return {voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false}
  }
  return {
    voters: checkedIds('ConfState.voters', w.voters),
    learners: checkedIds('ConfState.learners', w.learners),
    votersOutgoing: checkedIds('ConfState.voters_outgoing', w.votersOutgoing),
    learnersNext: checkedIds('ConfState.learners_next', w.learnersNext),
    autoLeave: w.autoLeave,
  }
}

export function snapshotMetadataToWire(m: SnapshotMetadata): wire.SnapshotMetadata {
  return {confState: confStateToWire(m.confState), index: m.index, term: m.term}
}

export function snapshotMetadataFromWire(w: wire.SnapshotMetadata | undefined): SnapshotMetadata {
  if (w === undefined) throw new WireDecodeError('Snapshot.metadata is missing')
  return {
    confState: confStateFromWire(w.confState),
    index: checkedUint('SnapshotMetadata.index', w.index),
    term: checkedUint('SnapshotMetadata.term', w.term),
  }
}

export function snapshotToWire(s: Snapshot): wire.Snapshot {
  return {data: s.data, metadata: snapshotMetadataToWire(s.metadata)}
}

export function snapshotFromWire(w: wire.Snapshot): Snapshot {
  return {data: w.data, metadata: snapshotMetadataFromWire(w.metadata)}
}

export function hardStateToWire(h: HardState): wire.HardState {
  return {term: h.term, vote: h.vote, commit: h.commit}
}

export function hardStateFromWire(w: wire.HardState): HardState {
  return {
    term: checkedUint('HardState.term', w.term),
    vote: checkedUint('HardState.vote', w.vote),
    commit: checkedUint('HardState.commit', w.commit),
  }
}

export function messageToWire(m: Message): wire.Message {
  return {
    msgType: m.msgType as number as wire.MessageType,
    to: m.to, from: m.from, term: m.term, logTerm: m.logTerm, index: m.index,
    entries: m.entries.map(entryToWire), commit: m.commit, commitTerm: m.commitTerm,
    snapshot: m.snapshot === undefined ? undefined : snapshotToWire(m.snapshot),
    requestSnapshot: m.requestSnapshot, reject: m.reject, rejectHint: m.rejectHint,
    context: m.context, deprecatedPriority: 0, priority: m.priority,
  }
}

export function messageFromWire(w: wire.Message): Message {
  const base = {
    msgType: checkedEnum<MessageType>('Message.msg_type', MessageType, w.msgType),
    to: checkedUint('Message.to', w.to),
    from: checkedUint('Message.from', w.from),
    term: checkedUint('Message.term', w.term),
    logTerm: checkedUint('Message.log_term', w.logTerm),
    index: checkedUint('Message.index', w.index),
    entries: w.entries.map(entryFromWire),
    commit: checkedUint('Message.commit', w.commit),
    commitTerm: checkedUint('Message.commit_term', w.commitTerm),
    requestSnapshot: checkedUint('Message.request_snapshot', w.requestSnapshot),
    reject: w.reject,
    rejectHint: checkedUint('Message.reject_hint', w.rejectHint),
    context: w.context,
    priority: checkedInt('Message.priority', w.priority),
  }
  return w.snapshot === undefined ? base : {...base, snapshot: snapshotFromWire(w.snapshot)}
}
