/**
 * RaftNode: one raftctl node — the RawNode, its RocksDB storage and KV state machine, the peer
 * transport — driven by the serialized loop (loop.ts). A Ready is handled in this order:
 *
 *   1. soft state (leader, role) and term changes are noted and logged;
 *   2. the Ready is made durable in ONE synced batch: with a snapshot from the leader,
 *      KvStore.restoreSnapshot(meta, ready) writes the state machine, log reset, ConfState,
 *      members AND the Ready's entries and hard state together; otherwise (or when the snapshot
 *      is not newer than the applied index, so nothing is restored) RaftStorage.persist writes
 *      the entries and hard state;
 *   3. messages are sent (MsgSnapshot streamed by the Snapshotter, the rest queued on the
 *      transport) — only now, so nothing is acknowledged before it is durable;
 *   4. committed entries are applied (Applier) and their proposers settled;
 *   5. confirmed ReadIndex requests are resolved;
 * then the loop calls advance(). Requests (requests.ts) enter the RawNode only through the loop.
 *
 * A node that learns it no longer belongs — it applied its own removal, or its peers say it was
 * removed or belongs to another cluster (membership_watch.ts) — logs one line and stops with exit
 * code 1 (leave), as etcd's removed member does; a removed leader first hands over.
 */
import {randomInt} from 'node:crypto'
import {status} from '@grpc/grpc-js'
import type {KvStore} from '../kv/index.js'
import {
  type Message, MessageType, RaftInvariantError, RawNode, type Ready, type SoftState, SnapshotOutOfDateError, SnapshotStatus,
  StateRole,
} from '../raft/index.js'
import type {RaftStorage} from '../storage/index.js'
import {PeerServer, PeerTransport, reconnectBackoff} from '../transport/index.js'
import {Applier, type ProposalResult} from './applier.js'
import type {ServerConfig} from './config.js'
import {NodeError} from './errors.js'
import {encodeServerRequest, SERVER_ENTRY_CONTEXT} from './internal.js'
import type {NodeLogger} from './logger.js'
import {isRefusal, NodeLoop} from './loop.js'
import {confStateIds} from './member_status.js'
import {MembershipWatch} from './membership_watch.js'
import {type MembershipLostError, peerAddresses, removedLocally, type SelfView} from './peer_check.js'
import {AppliedWaiters, ProposalWaits} from './proposals.js'
import {Snapshotter} from './snapshotter.js'
import {transportLogger} from './transport_log.js'
import {WaitRegistry} from './wait.js'

export interface RaftNodeOptions {
  readonly config: ServerConfig
  readonly storage: RaftStorage
  readonly kv: KvStore
  readonly log: NodeLogger
  /** Called once when the node stops because of an error it cannot recover from. */
  readonly onFatal: (err: unknown) => void
}

/**
 * The most bytes of committed entries one Ready hands out (Config.maxCommittedSizePerReady). The
 * loop applies a Ready before it ticks again, one synced write per entry (~0.5 ms on an idle
 * SSD), so 4 KiB of small requests (30–200 bytes, 20–140 entries) takes 10–70 ms, below one
 * heartbeat interval at the default 100 ms tick; a burst is applied over several turns.
 */
export const MAX_COMMITTED_BYTES_PER_READY = 4 * 1024

const bytesKey = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')

export class RaftNode {
  readonly id: number
  readonly clusterId: number
  readonly config: ServerConfig
  readonly storage: RaftStorage
  readonly kv: KvStore
  readonly log: NodeLogger
  readonly rn: RawNode
  readonly loop: NodeLoop
  readonly transport: PeerTransport
  readonly peerServer: PeerServer
  readonly proposals = new ProposalWaits<ProposalResult>()
  readonly reads = new WaitRegistry<string, number>()
  readonly applied: AppliedWaiters
  readonly snapshotter: Snapshotter
  readonly electionTimeoutMs: number
  private readonly applier: Applier
  private soft: SoftState
  private term: number
  private readonly peerAddrs = new Map<number, string>()
  private readonly leaderListeners = new Set<() => void>()
  private timers: NodeJS.Timeout[] = []
  private noLeaderSince: number | undefined = Date.now()
  private readonly nonce = randomInt(2 ** 32)
  private seq = 0
  private stopping = false
  private leaving = false
  private readonly watch: MembershipWatch

  constructor(private readonly opts: RaftNodeOptions) {
    const {config, storage, log} = opts
    this.config = config
    this.storage = storage
    this.kv = opts.kv
    this.log = log
    this.id = storage.nodeId
    this.clusterId = storage.clusterId
    this.electionTimeoutMs = config.electionTicks * config.tickMs
    this.rn = new RawNode({
      id: this.id, electionTick: config.electionTicks, heartbeatTick: config.heartbeatTicks,
      applied: storage.applied.index, checkQuorum: true, preVote: true,
      maxUncommittedSize: config.maxUncommittedBytes, maxCommittedSizePerReady: MAX_COMMITTED_BYTES_PER_READY,
      random: (n) => Math.floor(Math.random() * n),
    }, storage)
    this.soft = {leaderId: 0, role: StateRole.Follower}
    this.term = storage.hardState.term
    this.applied = new AppliedWaiters(storage.applied.index)
    this.loop = new NodeLoop(this.rn, {
      handleReady: (rd) => this.handleReady(rd),
      afterAdvance: () => this.snapshotter.maybeSnapshot(),
      onFatal: (err) => this.fatal(err),
    }, {maxQueuedProposals: config.maxQueuedProposals, maxUnappliedEntries: config.maxUnappliedEntries})
    const tlog = transportLogger(log)
    this.transport = new PeerTransport({clusterId: this.clusterId, nodeId: this.id, logger: tlog, limits: reconnectBackoff(this.electionTimeoutMs)})
    this.transport.onUnreachable((peer) => this.loop.post((rn) => rn.reportUnreachable(peer)))
    this.transport.onSnapshotStatus((peer, ok) => this.loop.post((rn) =>
      rn.reportSnapshot(peer, ok ? SnapshotStatus.Finish : SnapshotStatus.Failure)))
    this.watch = new MembershipWatch({
      self: () => this.selfView(), peers: () => peerAddresses(this.id, storage.members()),
      leaderlessForMs: () => this.leaderlessForMs, electionTimeoutMs: this.electionTimeoutMs, log,
      onLost: (err) => this.leave(err),
    })
    this.transport.onRefused((peer, code, reason) => this.watch.onRefused(peer, code, reason))
    this.snapshotter = new Snapshotter({
      storage, kv: opts.kv, transport: this.transport, loop: this.loop, log, applied: this.applied,
      snapshotCount: config.snapshotCount, trailing: config.snapshotCatchUpEntries,
      status: () => this.rn.status(), applyTimeoutMs: Math.max(10_000, 20 * this.electionTimeoutMs),
    })
    this.peerServer = new PeerServer({
      clusterId: this.clusterId, nodeId: this.id, logger: tlog,
      isKnownPeer: (peer) => peer !== this.id && storage.member(peer) !== undefined,
      onMessages: (msgs) => this.loop.post((rn) => this.stepAll(rn, msgs)),
      onSnapshot: (m, chunks) => this.snapshotter.receive(m, chunks),
    })
    this.applier = new Applier({
      storage, kv: opts.kv, log, proposals: this.proposals, applied: this.applied,
      onMembershipChanged: () => this.syncPeers(),
    })
  }

  /** Connects to the peers and starts ticking. A sole voter campaigns at once. */
  start(): void {
    this.syncPeers()
    const cs = this.storage.confState
    this.timers.push(setInterval(() => this.loop.tick(), this.config.tickMs))
    this.timers.push(setInterval(() => this.maybePublish(), Math.max(500, this.electionTimeoutMs)))
    this.watch.start()
    if (cs.voters.length === 1 && cs.voters[0] === this.id && cs.votersOutgoing.length === 0) {
      this.loop.post((rn) => rn.campaign())
    }
    this.loop.post(() => {})
  }

  /**
   * Stops the node: no more ticks or inputs; the Ready in flight finishes; waiters are rejected;
   * the transport and a snapshot being written are closed. The caller closes KV and storage.
   */
  async stop(): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    for (const t of this.timers) clearInterval(t)
    this.watch.stop()
    await this.loop.stop()
    this.proposals.rejectAll(new NodeError(status.UNAVAILABLE, `node ${this.id} is stopping; the outcome of a write in progress is unknown`))
    // A read changes nothing, so it is safe to send again to another member.
    const readErr = new NodeError(status.UNAVAILABLE, `node ${this.id} is stopping; send the read to another member`, undefined, true)
    this.reads.rejectAll(readErr)
    this.applied.rejectAll(new NodeError(status.UNAVAILABLE,
      `node ${this.id} is stopping before it applied what the request waits for; send it to another member`, undefined, true))
    await this.transport.close()
    await this.snapshotter.close()
  }

  // ---- state for services ----

  get leaderId(): number {
    return this.soft.leaderId
  }

  get role(): StateRole {
    return this.soft.role
  }

  get isLeader(): boolean {
    return this.soft.role === StateRole.Leader
  }

  get currentTerm(): number {
    return this.term
  }

  /**
   * False once this node applied a configuration without it (it was removed); true before it
   * received any configuration (a new learner waiting for its snapshot).
   */
  get isMember(): boolean {
    const ids = confStateIds(this.storage.confState)
    return ids.length === 0 || ids.includes(this.id)
  }

  /** Milliseconds since the node last knew a leader, or undefined when it knows one. */
  get leaderlessForMs(): number | undefined {
    return this.noLeaderSince === undefined ? undefined : Date.now() - this.noLeaderSince
  }

  /** The first client URL of `id` (the leader, by default), if published. */
  clientUrlOf(id = this.soft.leaderId): string | undefined {
    return this.storage.member(id)?.clientUrls[0]
  }

  /** A fresh id for a request (unique with high probability across nodes; used in logs). */
  nextRequestId(): number {
    this.seq = (this.seq + 1) % 2 ** 20
    return this.nonce * 2 ** 20 + this.seq
  }

  /** A unique ReadIndex context. */
  nextReadContext(): Uint8Array {
    return new TextEncoder().encode(`${this.id}/${this.nonce}/${this.nextRequestId()}`)
  }

  readKey(ctx: Uint8Array): string {
    return bytesKey(ctx)
  }

  /** Resolves when `pred` holds after a leader change, or false after timeoutMs. */
  waitForLeader(pred: (leaderId: number) => boolean, timeoutMs: number): Promise<boolean> {
    if (pred(this.soft.leaderId)) return Promise.resolve(true)
    return new Promise((resolve) => {
      const check = (): void => {
        if (!pred(this.soft.leaderId)) return
        cleanup()
        resolve(true)
      }
      const timer = setTimeout(() => {
        cleanup()
        resolve(false)
      }, timeoutMs)
      const cleanup = (): void => {
        clearTimeout(timer)
        this.leaderListeners.delete(check)
      }
      this.leaderListeners.add(check)
    })
  }

  // ---- the Ready ----

  private async handleReady(rd: Ready): Promise<void> {
    if (rd.softState !== undefined) this.onSoftState(rd.softState)
    if (rd.hardState !== undefined && rd.hardState.term !== this.term) {
      this.log.info({event: 'term-changed', term: rd.hardState.term, previous: this.term, vote: rd.hardState.vote}, 'term changed')
      this.term = rd.hardState.term
    }
    const restored = rd.snapshot !== undefined && await this.restoreSnapshot(rd)
    if (!restored) await this.storage.persist({entries: rd.entries, hardState: rd.hardState})
    this.send(rd.messages)
    if (rd.committedEntries.length > 0) await this.applier.apply(this.rn, rd.committedEntries)
    for (const rs of rd.readStates) this.reads.resolve(bytesKey(rs.requestCtx), rs.index)
  }

  /**
   * Installs the Ready's snapshot together with its entries and hard state (one batch). Returns
   * false, having written nothing, when the snapshot is not newer than the applied index; the
   * caller then persists the entries and hard state on their own.
   */
  private async restoreSnapshot(rd: Ready): Promise<boolean> {
    const meta = rd.snapshot!.metadata
    try {
      await this.kv.restoreSnapshot(meta, {entries: rd.entries, hardState: rd.hardState})
    } catch (err) {
      if (!(err instanceof SnapshotOutOfDateError)) throw err
      this.log.warn({event: 'snapshot-skipped', index: meta.index, term: meta.term, reason: err.message}, 'snapshot not applied')
      return false
    }
    this.log.info({event: 'snapshot-applied', index: meta.index, term: meta.term, voters: meta.confState.voters,
      learners: meta.confState.learners, revision: this.kv.revision}, 'snapshot applied')
    // The proposals' entries were replaced by the snapshot: whether they were committed is
    // unknown here, so they are UNAVAILABLE without the retry-safe mark (not INTERNAL).
    this.proposals.rejectUpTo(meta.index, () => new NodeError(status.UNAVAILABLE,
      `node ${this.id} caught up from a snapshot at index ${meta.index}, so the outcome of the request is unknown; read the keys to check`))
    this.applied.advance(meta.index)
    this.syncPeers()
    return true
  }

  private send(messages: readonly Message[]): void {
    const plain: Message[] = []
    for (const m of messages) {
      if (m.msgType === MessageType.MsgSnapshot) void this.snapshotter.send(m)
      else plain.push(m)
    }
    if (plain.length === 0) return
    try {
      this.transport.send(plain)
    } catch (err) {
      this.log.error({event: 'send-failed', reason: (err as Error).message}, 'messages could not be sent')
    }
  }

  /**
   * Steps a batch of peer messages in order. A refusal (isRefusal: e.g. a response from a removed
   * peer) is logged at debug level and the rest are stepped; any other error — a broken invariant,
   * such as a commit index beyond the log — is rethrown, and the loop stops the node at once.
   */
  private stepAll(rn: RawNode, msgs: readonly Message[]): void {
    for (const m of msgs) {
      try {
        rn.step(m)
      } catch (err) {
        if (!isRefusal(err)) throw err
        this.log.debug({event: 'step-refused', from: m.from, type: MessageType[m.msgType], reason: (err as Error).message}, 'message not stepped')
      }
    }
  }

  private onSoftState(ss: SoftState): void {
    const prev = this.soft
    this.soft = ss
    if (ss.role === StateRole.Leader && prev.role !== StateRole.Leader) {
      this.log.info({event: 'became-leader', term: this.rn.status().term}, 'became leader')
    } else if (prev.role === StateRole.Leader && ss.role !== StateRole.Leader) {
      this.log.info({event: 'lost-leadership', term: this.rn.status().term, leader: ss.leaderId}, 'stepped down as leader')
    }
    if (ss.leaderId !== prev.leaderId) {
      this.log.info({event: 'leader-changed', leader: ss.leaderId, previous: prev.leaderId, term: this.rn.status().term},
        ss.leaderId === 0 ? 'leader lost' : `leader is node ${ss.leaderId}`)
      this.noLeaderSince = ss.leaderId === 0 ? Date.now() : undefined
      // A node that just joined publishes its name and client URL as soon as it can.
      if (ss.leaderId !== 0) queueMicrotask(() => this.maybePublish())
    }
    for (const l of [...this.leaderListeners]) l()
  }

  // ---- peers and membership ----

  /**
   * Points the transport at every member but this node, as the member metadata says; leaves the
   * cluster when its configuration no longer names this node (see leave).
   */
  private syncPeers(): void {
    if (this.stopping) return
    const members = this.storage.members()
    const want = new Map(members.filter((m) => m.id !== this.id && m.peerUrls.length > 0).map((m) => [m.id, m.peerUrls[0]]))
    for (const id of [...this.peerAddrs.keys()]) {
      if (want.has(id)) continue
      this.transport.removePeer(id)
      this.peerAddrs.delete(id)
    }
    for (const [id, url] of want) {
      if (this.peerAddrs.get(id) === url) continue
      this.transport.addPeer(id, url)
      this.peerAddrs.set(id, url)
    }
    const removed = removedLocally(this.selfView())
    if (removed !== undefined) this.watch.confirmRemoval(removed)
  }

  /** What this node knows of its own membership, for peer_check.ts. */
  private selfView(): SelfView {
    const s = this.storage
    return {id: this.id, clusterId: this.clusterId, dataDir: this.config.dataDir, confState: s.confState, applied: s.applied.index}
  }

  /**
   * Stops the node for good because it no longer belongs: logs the one line saying why, lets a
   * removed leader hand leadership over (the core steps down within an election timeout) and
   * flush what it sends, then stops through onFatal, so the process exits with code 1.
   */
  private leave(err: MembershipLostError): void {
    if (this.leaving || this.stopping) return
    this.leaving = true
    const cs = this.storage.confState
    this.log.fatal({event: err.code === 'REMOVED' ? 'removed-from-cluster' : 'foreign-cluster', code: err.code,
      voters: cs.voters, learners: cs.learners}, err.message)
    const flushMs = Math.max(200, 2 * this.config.tickMs * this.config.heartbeatTicks)
    void this.waitForLeader(() => !this.isLeader, 2 * this.electionTimeoutMs)
      .then(() => new Promise((r) => setTimeout(r, flushMs)))
      .then(() => this.opts.onFatal(err))
  }

  /**
   * Publishes this node's name and client URL into its member record when they differ (the
   * founding members only know each other's peer URLs). The proposal is a server request entry;
   * on a follower the core forwards it to the leader. Retried on the next interval until the
   * applied record matches.
   */
  private maybePublish(): void {
    const me = this.storage.member(this.id)
    if (me === undefined || this.soft.leaderId === 0 || this.stopping) return
    const want = this.config.advertiseClient
    if (me.name === this.config.name && me.clientUrls.length === 1 && me.clientUrls[0] === want) return
    const data = encodeServerRequest(this.nextRequestId(), {id: this.id, name: this.config.name, peerUrls: [], clientUrls: [want]})
    this.loop.post((rn) => rn.propose(data, SERVER_ENTRY_CONTEXT), (err) =>
      this.log.debug({event: 'publish-deferred', reason: (err as Error).message}, 'member attributes not published yet'))
  }

  /**
   * Logs the one line of a fatal error, naming the broken invariant when the core raised one, and
   * stops the node (exit code 1). The loop has already stopped: nothing more is stepped or written.
   */
  private fatal(err: unknown): void {
    const message = (err as Error)?.message ?? String(err)
    const what = err instanceof RaftInvariantError ? 'a Raft invariant was broken' : 'an error it cannot recover from'
    this.log.fatal({event: 'node-failed', code: (err as {code?: unknown})?.code, error: message},
      `node ${this.id} stopped: ${what}: ${message}; nothing more is stepped, persisted or applied`)
    this.opts.onFatal(err)
  }
}
