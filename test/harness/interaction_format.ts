/**
 * Text renderings of Raft values for the interaction harness transcripts, following etcd-io/raft's
 * raft/util.go (DescribeMessage, DescribeEntry, DescribeReady, ...) with raft-rs's message names:
 *
 *   1->2 MsgAppend Term:1 Log:1/3 Commit:3 Entries:[1/4 EntryNormal "foo"]
 *
 * "Log:T/I" is the message's (logTerm, index); an entry is "term/index type payload".
 * Conf-change payloads print as the changes ("v2 l3 r1 u4"), followed by the transition when it
 * is not Auto; a leave-joint entry (no changes) prints as "EntryConfChangeV2" alone, as in etcd.
 */
import {decodeConfChange} from '../../src/raft/conf_change.js'
import type {Ready} from '../../src/raft/raw_node.js'
import type {ProgressStatus} from '../../src/raft/status.js'
import {
  type ConfChangeSingle, ConfChangeTransition, ConfChangeType, type ConfState, type Entry, EntryType,
  type HardState, type Message, MessageType, type Snapshot,
} from '../../src/raft/types.js'

const dec = new TextDecoder()

/** Go's %q for the printable ASCII we use in scripts; other bytes as \xNN. */
export function quote(b: Uint8Array): string {
  let s = '"'
  for (const c of b) {
    if (c === 0x22 || c === 0x5c) s += '\\' + String.fromCharCode(c)
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c)
    else s += '\\x' + c.toString(16).padStart(2, '0')
  }
  return s + '"'
}

const CHANGE_LETTER: Record<ConfChangeType, string> = {
  [ConfChangeType.AddNode]: 'v',
  [ConfChangeType.AddLearnerNode]: 'l',
  [ConfChangeType.RemoveNode]: 'r',
  [ConfChangeType.UpdateNode]: 'u',
}

/** "v2 l3 r1 u4" for a list of single changes. */
export function describeChanges(cs: readonly ConfChangeSingle[]): string {
  return cs.map((c) => `${CHANGE_LETTER[c.type]}${c.nodeId}`).join(' ')
}

/** The payload of an entry: quoted data, or the decoded conf change. */
function describePayload(e: Entry): string {
  if (e.entryType === EntryType.EntryNormal) return quote(e.data)
  const cc = decodeConfChange(e)
  if (cc.kind === 'v1') return describeChanges([{type: cc.type, nodeId: cc.nodeId}])
  let s = describeChanges(cc.changes)
  if (cc.transition !== ConfChangeTransition.Auto) {
    s += `${s === '' ? '' : ' '}transition=${ConfChangeTransition[cc.transition].toLowerCase()}`
  }
  return s
}

/** "1/4 EntryNormal \"foo\"" (term/index type payload). */
export function describeEntry(e: Entry): string {
  const payload = describePayload(e)
  return `${e.term}/${e.index} ${EntryType[e.entryType]}${payload === '' ? '' : ' ' + payload}`
}

function ids(xs: readonly number[]): string {
  return `(${[...xs].sort((a, b) => a - b).join(' ')})`
}

/** A ConfState in etcd's tracker format: "voters=(1 2 3)&&(1 2) learners=(4) learners_next=(5) autoleave". */
export function describeConfState(cs: ConfState): string {
  let s = `voters=${ids(cs.voters)}`
  if (cs.votersOutgoing.length > 0) s += `&&${ids(cs.votersOutgoing)}`
  if (cs.learners.length > 0) s += ` learners=${ids(cs.learners)}`
  if (cs.learnersNext.length > 0) s += ` learners_next=${ids(cs.learnersNext)}`
  if (cs.autoLeave) s += ' autoleave'
  return s
}

/** "Index:5 Term:1 ConfState:voters=(1 2 3)". */
export function describeSnapshot(s: Snapshot): string {
  const m = s.metadata
  return `Index:${m.index} Term:${m.term} ConfState:${describeConfState(m.confState)}`
}

/** "Term:1 Vote:1 Commit:3" (Vote left out when 0, as etcd does). */
export function describeHardState(hs: HardState): string {
  return `Term:${hs.term}${hs.vote !== 0 ? ` Vote:${hs.vote}` : ''} Commit:${hs.commit}`
}

/** One message, etcd DescribeMessage style; the context is shown when it is not empty. */
export function describeMessage(m: Message): string {
  let s = `${m.from}->${m.to} ${MessageType[m.msgType]} Term:${m.term} Log:${m.logTerm}/${m.index}`
  if (m.reject) s += ` Rejected (Hint: ${m.rejectHint})`
  if (m.commit !== 0) s += ` Commit:${m.commit}`
  if (m.commitTerm !== 0) s += ` CommitTerm:${m.commitTerm}`
  if (m.context.length > 0) s += ` Context:${quote(m.context)}`
  if (m.entries.length > 0) s += ` Entries:[${m.entries.map(describeEntry).join(', ')}]`
  if (m.snapshot !== undefined) s += ` Snapshot: ${describeSnapshot(m.snapshot)}`
  return s
}

/** The lines of a Ready (without indentation), or ["<empty Ready>"]. */
export function describeReady(rd: Ready): string[] {
  const out: string[] = []
  if (rd.softState) out.push(`Lead:${rd.softState.leaderId} State:${rd.softState.role}`)
  if (rd.hardState) out.push(`HardState ${describeHardState(rd.hardState)}`)
  if (rd.readStates.length > 0) {
    out.push('ReadStates:', ...rd.readStates.map((r) => `Index:${r.index} RequestCtx:${quote(r.requestCtx)}`))
  }
  if (rd.entries.length > 0) out.push('Entries:', ...rd.entries.map(describeEntry))
  if (rd.snapshot) out.push(`Snapshot ${describeSnapshot(rd.snapshot)}`)
  if (rd.committedEntries.length > 0) out.push('CommittedEntries:', ...rd.committedEntries.map(describeEntry))
  if (rd.messages.length > 0) out.push('Messages:', ...rd.messages.map(describeMessage))
  if (out.length === 0) return ['<empty Ready>']
  return [`Ready MustSync=${rd.mustSync}:`, ...out]
}

/** A peer's progress as the leader sees it, in etcd's Progress.String format. */
export function describeProgress(p: ProgressStatus): string {
  let s = `${p.state} match=${p.match} next=${p.next}`
  if (p.isLearner) s += ' learner'
  if (p.paused) s += ' paused'
  if (p.pendingSnapshot > 0) s += ` pendingSnap=${p.pendingSnapshot}`
  if (!p.recentActive) s += ' inactive'
  if (p.inflight > 0) s += ` inflight=${p.inflight}`
  return s
}

/** Decodes bytes as UTF-8 (the data of scripted proposals). */
export function text(b: Uint8Array): string {
  return dec.decode(b)
}
