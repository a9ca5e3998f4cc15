/**
 * Conversion between the core's plain types (src/raft/types.ts) and the generated eraftpb wire
 * types. `toWire` functions never fail; `fromWire` functions check every integer and enum and
 * throw WireDecodeError naming the field that was wrong.
 */
import * as wire from '../generated/eraftpb.js'
import {Changer, ConfChangeError, formatConfState, ProgressTracker} from '../raft/index.js'
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

/** The ids of one list of a ConfState, sorted; each a safe integer >= 1, none twice. */
function checkedIds(field: string, ids: readonly number[]): number[] {
  const sorted = ids.map((id) => checkedUint(field, id)).sort((a, b) => a - b)
  for (const [i, id] of sorted.entries()) {
    if (id === 0) throw new WireDecodeError(`${field} names node 0, but node ids start at 1`)
    if (i > 0 && sorted[i - 1] === id) throw new WireDecodeError(`${field} names node ${id} twice`)
  }
  return sorted
}

/**
 * Converts a wire ConfState and checks that it is a configuration the core can hold: the core
 * restores it (src/raft/confchange, the same checks as any conf change: learners are no voters
 * of either half, learners_next are outgoing voters, auto-leave only when joint, a joint config
 * keeps voters). A ConfState that breaks one is refused here, where it enters from the wire or
 * from disk, rather than deep inside the core (which would stop the node).
 */
export function confStateFromWire(w: wire.ConfState | undefined): ConfState {
  if (w === undefined) return {voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false}
  const cs: ConfState = {
    voters: checkedIds('ConfState.voters', w.voters),
    learners: checkedIds('ConfState.learners', w.learners),
    votersOutgoing: checkedIds('ConfState.voters_outgoing', w.votersOutgoing),
    learnersNext: checkedIds('ConfState.learners_next', w.learnersNext),
    autoLeave: w.autoLeave,
  }
  try {
    new Changer(new ProgressTracker(1), 0).restore(cs)
  } catch (err) {
    if (!(err instanceof ConfChangeError)) throw err
    throw new WireDecodeError(`ConfState ${formatConfState(cs)} is not a valid configuration: ${err.message}`)
  }
  return cs
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
