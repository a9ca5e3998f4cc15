/**
 * The shape every Raft message sent by a raftctl node has, whatever the state of sender and
 * receiver. The core trusts these properties (as etcd-io/raft and raft-rs do, where breaking one
 * is a panic or a corrupt log), so the receiver refuses a message that lacks one before it
 * reaches the core (check.ts): a broken or hostile peer can then neither crash a node nor make
 * it append a log with holes.
 *
 * The rules, from the core's `send` (src/raft/raft_core.ts) and the message handlers:
 * - MsgPropose and MsgReadIndex are forwarded local requests and carry no term; every other
 *   message carries the sender's term, which is at least 1;
 * - a forwarded MsgPropose carries at least one entry; MsgReadIndex and MsgReadIndexResp carry
 *   exactly one (its data is the read's context);
 * - the entries of a MsgAppend follow the entry at (index, log_term) without a gap: entry i has
 *   index `index + 1 + i`; their terms are at least 1, never go down, are at least log_term and
 *   at most the message's term (a log's terms only grow, and a leader appends nothing newer than
 *   its own term), and log_term is at most the message's term;
 * - a snapshot travels only on MsgSnapshot, which always carries one for an index of at least 1
 *   and a term no newer than the message's.
 */
import {type Message, MessageType} from '../raft/types.js'

/** Types sent without a term (forwarded local requests). */
const TERMLESS: ReadonlySet<MessageType> = new Set([MessageType.MsgPropose, MessageType.MsgReadIndex])

/** Returns a sentence saying which rule `m` breaks, or undefined when it has a valid shape. */
export function shapeProblem(m: Message): string | undefined {
  return termProblem(m) ?? entryCountProblem(m) ?? appendProblem(m) ?? snapshotProblem(m)
}

function termProblem(m: Message): string | undefined {
  if (TERMLESS.has(m.msgType)) return m.term === 0 ? undefined : `it carries term ${m.term}, but a forwarded request carries none`
  return m.term >= 1 ? undefined : 'it carries term 0, but every message of this type carries the sender\'s term (at least 1)'
}

function entryCountProblem(m: Message): string | undefined {
  const n = m.entries.length
  if (m.msgType === MessageType.MsgPropose && n === 0) return 'it carries no entry to propose'
  if ((m.msgType === MessageType.MsgReadIndex || m.msgType === MessageType.MsgReadIndexResp) && n !== 1) {
    return `it carries ${n} entries, but a read carries exactly one (its context)`
  }
  return undefined
}

function appendProblem(m: Message): string | undefined {
  if (m.msgType !== MessageType.MsgAppend) return undefined
  if (m.logTerm > m.term) return `its log_term ${m.logTerm} is newer than its term ${m.term}`
  let prevTerm = m.logTerm
  for (const [i, e] of m.entries.entries()) {
    if (e.index !== m.index + 1 + i) return `entry ${i + 1} has index ${e.index}, but it follows index ${m.index + i}`
    if (e.term < 1 || e.term < prevTerm || e.term > m.term) {
      return `entry ${i + 1} (index ${e.index}) has term ${e.term}, outside [${Math.max(1, prevTerm)}, ${m.term}]`
    }
    prevTerm = e.term
  }
  return undefined
}

function snapshotProblem(m: Message): string | undefined {
  if (m.msgType !== MessageType.MsgSnapshot) return m.snapshot === undefined ? undefined : 'it carries a snapshot, which only MsgSnapshot may'
  const meta = m.snapshot?.metadata
  if (meta === undefined) return 'it carries no snapshot'
  if (meta.index < 1) return 'its snapshot is for index 0'
  if (meta.term > m.term) return `its snapshot's term ${meta.term} is newer than the message's term ${m.term}`
  return undefined
}
