/** Helpers shared by the Raft-level scenario tests (etcd raft_paper_test.go helpers). */
import type {MemoryStorage} from '../../../src/raft/memory_storage.js'
import type {Raft} from '../../../src/raft/raft.js'
import {StateRole} from '../../../src/raft/role.js'
import {type Entry, type Message, MessageType, newEntry, newMessage} from '../../../src/raft/types.js'
import {readMessages} from './network.js'

const enc = new TextEncoder()

/** The acknowledgement a follower would send for MsgAppend m. */
export function acceptAndReply(m: Message): Message {
  if (m.msgType !== MessageType.MsgAppend) throw new Error(`expected MsgAppend, got ${MessageType[m.msgType]}`)
  return newMessage({
    msgType: MessageType.MsgAppendResponse, from: m.to, to: m.from, term: m.term, index: m.index + m.entries.length,
  })
}

/**
 * Makes a fresh leader commit its empty entry: every follower acknowledges it, the entries are
 * persisted and applied (etcd commitNoopEntry).
 */
export function commitNoopEntry(r: Raft, s: MemoryStorage): void {
  if (r.state !== StateRole.Leader) throw new Error('commitNoopEntry needs a leader')
  r.bcastAppend()
  for (const m of readMessages(r)) {
    if (m.msgType !== MessageType.MsgAppend || m.entries.length !== 1 || m.entries[0].data.length !== 0) {
      throw new Error('not a message to append the empty entry')
    }
    r.step(acceptAndReply(m))
  }
  // Ignore further messages that refresh followers' commit index.
  readMessages(r)
  s.append(r.raftLog.nextUnstableEnts())
  r.raftLog.appliedTo(r.raftLog.committed)
  const last = r.raftLog.lastIndex()
  r.raftLog.stableTo(last, r.raftLog.term(last))
}

/** A MsgPropose of one entry with `data` addressed to `id` itself. */
export function propose(id: number, data = 'somedata'): Message {
  return newMessage({
    msgType: MessageType.MsgPropose, from: id, to: id, entries: [newEntry({term: 0, index: 0, data: enc.encode(data)})],
  })
}

/** Entries 1..n of the given terms. */
export function termsFrom(first: number, ...terms: number[]): Entry[] {
  return terms.map((t, i) => newEntry({index: first + i, term: t}))
}

/** Compact (index, term, data) view of entries. */
export function view(es: readonly Entry[]): Array<[number, number, string]> {
  return es.map((e) => [e.index, e.term, new TextDecoder().decode(e.data)])
}

/** Compact view of messages: the fields that matter for replication tests. */
export function msgView(msgs: readonly Message[]): Array<Record<string, unknown>> {
  return [...msgs]
    .sort((a, b) => a.to - b.to || a.msgType - b.msgType)
    .map((m) => ({
      type: MessageType[m.msgType], from: m.from, to: m.to, term: m.term, logTerm: m.logTerm, index: m.index,
      commit: m.commit, reject: m.reject, rejectHint: m.rejectHint, entries: view(m.entries),
    }))
}
