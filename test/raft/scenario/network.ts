/**
 * A small in-memory network of Raft state machines for the scenario tests, modelled on the
 * `network` of etcd-io/raft raft_test.go: messages are delivered synchronously, depth first, and
 * can be dropped per link, per node (isolate) or per type (ignore). Persistence is immediate: a
 * node's self-addressed responses (its own vote, its own append acknowledgement) are stepped
 * right after each message, as etcd's tests do with advanceMessagesAfterAppend.
 */
import type {Config} from '../../../src/raft/config.js'
import {ProposalDroppedError} from '../../../src/raft/errors.js'
import {MemoryStorage} from '../../../src/raft/memory_storage.js'
import {newRaft} from '../../../src/raft/new_raft.js'
import type {Raft} from '../../../src/raft/raft.js'
import {
  type ConfState, type Entry, EMPTY_CONF_STATE, type Message, MessageType, newEntry, newMessage,
} from '../../../src/raft/types.js'

/** A Raft with config defaults of etcd's newTestConfig (no size limit, 256 inflights). */
export function newTestRaft(id: number, election: number, heartbeat: number, storage: MemoryStorage,
  extra: Partial<Config> = {}): Raft {
  return newRaft({
    id, electionTick: election, heartbeatTick: heartbeat, maxSizePerMsg: Number.MAX_SAFE_INTEGER,
    maxInflightMsgs: 256, ...extra,
  }, storage)
}

/** A storage whose ConfState has the given voters and learners (etcd newTestMemoryStorage). */
export function newTestStorage(voters: number[], learners: number[] = []): MemoryStorage {
  return MemoryStorage.withConfState({...EMPTY_CONF_STATE, voters, learners} satisfies ConfState)
}

/** A Raft of voters [1..n] (or given ids) with election 10, heartbeat 1. */
export function newTestRaftPeers(id: number, voters: number[], extra: Partial<Config> = {},
  election = 10, heartbeat = 1): Raft {
  return newTestRaft(id, election, heartbeat, newTestStorage(voters), extra)
}

/** Steps every self-addressed message waiting for persistence; queues the others to send. */
export function advanceMessagesAfterAppend(r: Raft): void {
  for (;;) {
    const msgs = r.msgsAfterAppend
    if (msgs.length === 0) return
    r.msgsAfterAppend = []
    for (const m of msgs) {
      if (m.to === r.id) r.step(m)
      else r.msgs.push(m)
    }
  }
}

/** Returns (and clears) the messages a node wants to send, after self-acknowledgements. */
export function readMessages(r: Raft): Message[] {
  advanceMessagesAfterAppend(r)
  const msgs = r.msgs
  r.msgs = []
  return msgs
}

/**
 * Persists the unstable entries to `s`, steps the self-acknowledgements and returns the
 * committed entries, marking them applied (etcd's nextEnts).
 */
export function nextEnts(r: Raft, s: MemoryStorage): Entry[] {
  s.append(r.raftLog.nextUnstableEnts())
  const last = r.raftLog.lastIndex()
  r.raftLog.stableTo(last, r.raftLog.term(last))
  advanceMessagesAfterAppend(r)
  const ents = r.raftLog.nextCommittedEnts(true)
  r.raftLog.appliedTo(r.raftLog.committed)
  return ents
}

/** A MsgPropose with one entry carrying `data` (default "somedata"). */
export function propMsg(from: number, data = 'somedata'): Message {
  return newMessage({
    msgType: MessageType.MsgPropose, from, to: from,
    entries: [newEntry({term: 0, index: 0, data: new TextEncoder().encode(data)})],
  })
}

/** A local message of type t addressed to `id` (MsgHup, MsgBeat, ...). */
export function localMsg(id: number, msgType: MessageType): Message {
  return newMessage({msgType, from: id, to: id})
}

/** How a peer of a network is given: an existing Raft, a factory, a default node, or a black hole. */
export type PeerSpec = Raft | ((id: number, ids: number[]) => Raft) | null | 'blackhole'

/** A node with a log of the given terms (entries 1..n) that can become leader (etcd entsWithConfig). */
export function entsRaft(terms: number[], extra: Partial<Config> = {}): (id: number, ids: number[]) => Raft {
  return (id, ids) => {
    const s = newTestStorage(ids)
    s.append(terms.map((t, i) => newEntry({index: i + 1, term: t})))
    const r = newTestRaft(id, 5, 1, s, extra)
    r.reset(terms[terms.length - 1] ?? 0)
    return r
  }
}

/** A node that already voted for `vote` in `term` (etcd votedWithConfig). */
export function votedRaft(vote: number, term: number, extra: Partial<Config> = {}): (id: number, ids: number[]) => Raft {
  return (id, ids) => {
    const s = newTestStorage(ids)
    s.setHardState({term, vote, commit: 0})
    const r = newTestRaft(id, 5, 1, s, extra)
    r.reset(term)
    return r
  }
}

export class Network {
  readonly peers = new Map<number, Raft | 'blackhole'>()
  readonly storage = new Map<number, MemoryStorage>()
  private readonly dropped = new Set<string>()
  private readonly ignored = new Set<MessageType>()
  /** When set, a message is delivered only if the hook returns true. */
  msgHook: ((m: Message) => boolean) | undefined = undefined

  /**
   * Builds a network of peers 1..n. A `null` peer is a new node whose storage names all peers as
   * voters, configured by `configure` (etcd newNetworkWithConfig).
   */
  constructor(specs: PeerSpec[], configure: (c: Partial<Config>) => Partial<Config> = (c) => c) {
    const ids = specs.map((_, i) => i + 1)
    specs.forEach((spec, i) => {
      const id = i + 1
      if (spec === 'blackhole') {
        this.peers.set(id, 'blackhole')
      } else if (spec === null) {
        const s = newTestStorage(ids)
        this.storage.set(id, s)
        this.peers.set(id, newTestRaft(id, 10, 1, s, configure({})))
      } else if (typeof spec === 'function') {
        const r = spec(id, ids)
        this.storage.set(id, r.raftLog.storage as MemoryStorage)
        this.peers.set(id, r)
      } else {
        this.storage.set(id, spec.raftLog.storage as MemoryStorage)
        this.peers.set(id, spec)
      }
    })
  }

  /** The Raft of peer `id` (throws for a black hole). */
  raft(id: number): Raft {
    const p = this.peers.get(id)
    if (p === undefined || p === 'blackhole') throw new Error(`peer ${id} is not a raft`)
    return p
  }

  /** Delivers messages and everything they cause until no message is left. */
  send(...msgs: Message[]): void {
    const queue = [...msgs]
    while (queue.length > 0) {
      const m = queue.shift()!
      const p = this.peers.get(m.to)
      if (p === undefined || p === 'blackhole') continue
      try {
        p.step(m)
      } catch (err) {
        // Like etcd's network, a dropped proposal is not a failure of the network.
        if (!(err instanceof ProposalDroppedError)) throw err
      }
      queue.push(...this.filter(readMessages(p)))
    }
  }

  /** Drops every message from `from` to `to`. */
  drop(from: number, to: number): void {
    this.dropped.add(`${from}-${to}`)
  }

  /** Drops every message between a and b, both ways. */
  cut(a: number, b: number): void {
    this.drop(a, b)
    this.drop(b, a)
  }

  /** Drops every message to and from `id`. */
  isolate(id: number): void {
    for (const other of this.peers.keys()) if (other !== id) this.cut(id, other)
  }

  /** Drops every message of type t. */
  ignore(t: MessageType): void {
    this.ignored.add(t)
  }

  /** Heals every drop, isolation and ignore. */
  recover(): void {
    this.dropped.clear()
    this.ignored.clear()
  }

  /** Removes the messages that the current faults drop. */
  filter(msgs: Message[]): Message[] {
    return msgs.filter((m) => {
      if (this.ignored.has(m.msgType)) return false
      if (m.msgType === MessageType.MsgHup) throw new Error('unexpected MsgHup on the network')
      if (this.dropped.has(`${m.from}-${m.to}`)) return false
      return this.msgHook === undefined || this.msgHook(m)
    })
  }
}

/** The (index, term) pairs of a Raft's whole log, for comparisons. */
export function logOf(r: Raft): Array<[number, number, string]> {
  return r.raftLog.allEntries().map((e) => [e.index, e.term, new TextDecoder().decode(e.data)])
}
