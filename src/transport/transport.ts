/**
 * PeerTransport: the sending side of node-to-node communication. It moves the Raft messages of
 * each Ready to their peers (send), streams snapshot files (sendSnapshot), and reports failures
 * back so the node can call the core's reportUnreachable / reportSnapshot.
 *
 * Guarantees: send() never blocks and never throws for network reasons; each peer has its own
 * bounded queue and stream (peer_pipe.ts), so a slow or dead peer never delays the others;
 * messages to one peer are delivered in the order they were sent, or dropped (Raft tolerates
 * loss, not reordering within a stream, which this transport never does). Listener callbacks run
 * asynchronously, never inside a call to this class, and never after close().
 *
 * A MsgSnapshot given to send() travels inline like any other message, its snapshot.data
 * included (fine for small in-memory snapshots); a snapshot file goes through sendSnapshot,
 * which streams it in chunks on a connection of its own.
 */
import {type ClientWritableStream, credentials, type status} from '@grpc/grpc-js'
import type {SnapshotChunk} from '../generated/raftctl/v1/peer.js'
import {encodeMessage} from '../raftpb/codec.js'
import {parseEndpoint} from '../raftpb/address.js'
import {type Message, MessageType} from '../raft/types.js'
import {errorMessage, TransportError} from './errors.js'
import {channelOptions, resolveLimits, type TransportLimits, type TransportLogger} from './options.js'
import {PeerPipe, type PeerStats} from './peer_pipe.js'
import type {QueuedMessage} from './queue.js'
import {streamSnapshot} from './snapshot_send.js'
import {isEssential, isLocalOnly, RawPeerClient} from './wire.js'

export interface PeerTransportOptions {
  readonly clusterId: number
  readonly nodeId: number
  readonly logger?: TransportLogger
  readonly limits?: Partial<TransportLimits>
}

/** Room for the PeerBatch framing around one message within the gRPC size limit. */
const FRAMING_BYTES = 64

export class PeerTransport {
  readonly clusterId: number
  readonly nodeId: number
  readonly limits: TransportLimits
  private readonly log: TransportLogger
  private readonly peers = new Map<number, PeerPipe>()
  private readonly unreachableListeners: ((id: number) => void)[] = []
  private readonly snapshotListeners: ((id: number, ok: boolean) => void)[] = []
  private readonly refusalListeners: ((id: number, code: status, reason: string) => void)[] = []
  private readonly pendingUnreachable = new Set<number>()
  private readonly snapshotCalls = new Set<ClientWritableStream<SnapshotChunk>>()
  private closed = false

  constructor(opts: PeerTransportOptions) {
    this.clusterId = checkedId('clusterId', opts.clusterId)
    this.nodeId = checkedId('nodeId', opts.nodeId)
    this.limits = resolveLimits(opts.limits)
    this.log = opts.logger ?? (() => {})
  }

  /** Adds peer `id` at `address` ("host:port"); re-adding an existing peer updates its address. */
  addPeer(id: number, address: string): void {
    this.checkOpen()
    checkedId('peer id', id)
    if (id === this.nodeId) throw new TransportError('BAD_PEER', `node ${id} cannot add itself as a peer`)
    const ep = parseEndpoint(`peer address of node ${id}`, address)
    const pipe = this.peers.get(id)
    if (pipe !== undefined) {
      pipe.update(ep.address)
      return
    }
    this.peers.set(id, new PeerPipe(id, ep.address, {
      clusterId: this.clusterId, nodeId: this.nodeId, limits: this.limits, log: this.log,
      reportUnreachable: (peer) => this.reportUnreachable(peer),
      reportRefused: (peer, code, reason) => setImmediate(() => {
        if (!this.closed) for (const cb of this.refusalListeners) cb(peer, code, reason)
      }),
    }))
    this.log('peer-added', {peer: id, address: ep.address})
  }

  /** Points peer `id` at a new address; its current stream and queued messages are dropped. */
  updatePeer(id: number, address: string): void {
    this.checkOpen()
    const pipe = this.peers.get(id)
    if (pipe === undefined) throw new TransportError('UNKNOWN_PEER', `node ${id} is not a peer of node ${this.nodeId}`)
    pipe.update(parseEndpoint(`peer address of node ${id}`, address).address)
  }

  /** Forgets peer `id`: its stream is cancelled and its queue dropped. Unknown ids are ignored. */
  removePeer(id: number): void {
    const pipe = this.peers.get(id)
    if (pipe === undefined) return
    pipe.close()
    this.peers.delete(id)
    this.log('peer-removed', {peer: id, address: pipe.peerAddress})
  }

  /** True when `id` is a peer of this transport. */
  hasPeer(id: number): boolean {
    return this.peers.has(id)
  }

  /** Queue and stream counters of peer `id`, or undefined for an unknown peer. */
  peerStats(id: number): PeerStats | undefined {
    return this.peers.get(id)?.stats()
  }

  /**
   * Queues `messages` for their peers and returns at once. Messages to an unknown peer, or that
   * do not fit a full queue, are dropped and the peer reported unreachable. Throws TransportError
   * (before queueing any) if a message could never be valid on the wire: not from this node, to
   * this node or to node 0, or of a type that never leaves a node.
   */
  send(messages: readonly Message[]): void {
    if (this.closed) return
    for (const m of messages) this.checkOutgoing(m)
    const byPeer = new Map<number, QueuedMessage[]>()
    for (const m of messages) {
      const bytes = encodeMessage(m)
      if (bytes.length + FRAMING_BYTES > this.limits.maxMessageBytes) {
        this.log('peer-message-too-large', {peer: m.to, type: MessageType[m.msgType], bytes: bytes.length})
        this.reportUnreachable(m.to)
        continue
      }
      let list = byPeer.get(m.to)
      if (list === undefined) byPeer.set(m.to, list = [])
      list.push({bytes, essential: isEssential(m.msgType)})
    }
    for (const [to, list] of byPeer) {
      const pipe = this.peers.get(to)
      if (pipe !== undefined) pipe.enqueue(list)
      else {
        this.log('peer-unknown', {peer: to, droppedMessages: list.length})
        this.reportUnreachable(to)
      }
    }
  }

  /** Registers a listener called with a peer's id when messages to it could not be delivered. */
  onUnreachable(cb: (id: number) => void): void {
    this.unreachableListeners.push(cb)
  }

  /**
   * Registers a listener called (asynchronously) when a peer refuses this node's message stream:
   * FAILED_PRECONDITION (another cluster's id, or an address that reaches another node),
   * PERMISSION_DENIED (this node is not a member as the peer knows it) or INVALID_ARGUMENT.
   */
  onRefused(cb: (id: number, code: status, reason: string) => void): void {
    this.refusalListeners.push(cb)
  }

  /** Registers a listener called once per sendSnapshot with the peer's id and the outcome. */
  onSnapshotStatus(cb: (id: number, ok: boolean) => void): void {
    this.snapshotListeners.push(cb)
  }

  /**
   * Streams a snapshot to peer `to` over a connection of its own: `msg` is the MsgSnapshot (its
   * metadata), `chunks` the snapshot file. Resolves once the receiver applied it; otherwise
   * rejects with TransportError SNAPSHOT_FAILED. Snapshot-status listeners hear the outcome
   * either way (until close()).
   */
  async sendSnapshot(to: number, msg: Message, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    this.checkOpen()
    const pipe = this.peers.get(to)
    const fields = {peer: to, index: msg.snapshot?.metadata.index, term: msg.snapshot?.metadata.term}
    if (msg.msgType !== MessageType.MsgSnapshot || msg.snapshot === undefined || msg.to !== to) {
      throw new TransportError('BAD_MESSAGE', `sendSnapshot to node ${to} needs a MsgSnapshot with metadata addressed to it`)
    }
    this.checkOutgoing(msg)
    const started = Date.now()
    try {
      if (pipe === undefined) throw new TransportError('UNKNOWN_PEER', `node ${to} is not a peer of node ${this.nodeId}`)
      const client = new RawPeerClient(pipe.peerAddress, credentials.createInsecure(), channelOptions(this.limits))
      this.log('snapshot-sending', {...fields, address: pipe.peerAddress})
      try {
        const r = await this.transfer(client, msg, chunks)
        this.log('snapshot-sent', {...fields, bytes: r.bytes, ms: Date.now() - started})
      } finally {
        client.close()
      }
    } catch (err) {
      this.log('snapshot-send-failed', {...fields, reason: errorMessage(err), ms: Date.now() - started})
      this.reportSnapshot(to, false)
      throw err instanceof TransportError ? err
        : new TransportError('SNAPSHOT_FAILED', `sending the snapshot at index ${msg.snapshot.metadata.index} to node ${to} failed: ${errorMessage(err)}`)
    }
    this.reportSnapshot(to, true)
  }

  /** Stops everything: streams and transfers are cancelled; no listener is called afterwards. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const pipe of this.peers.values()) pipe.close()
    this.peers.clear()
    for (const call of this.snapshotCalls) call.cancel()
    this.snapshotCalls.clear()
    this.pendingUnreachable.clear()
  }

  private transfer(client: RawPeerClient, msg: Message, chunks: AsyncIterable<Uint8Array>) {
    let active: ClientWritableStream<SnapshotChunk> | null = null
    return streamSnapshot({
      client, message: msg, chunks, chunkBytes: this.limits.snapshotChunkBytes,
      header: {clusterId: this.clusterId, from: this.nodeId, to: msg.to},
      deadline: new Date(Date.now() + this.limits.snapshotTimeoutMs),
      onCall: (call) => {
        if (active !== null) this.snapshotCalls.delete(active)
        active = call
        if (call !== null) this.snapshotCalls.add(call)
      },
    })
  }

  private checkOutgoing(m: Message): void {
    const what = `${MessageType[m.msgType] ?? `message type ${m.msgType}`} to node ${m.to}`
    if (isLocalOnly(m.msgType)) throw new TransportError('BAD_MESSAGE', `${what} never travels between nodes`)
    if (m.from !== this.nodeId) throw new TransportError('BAD_MESSAGE', `${what} is from node ${m.from}, not from this node ${this.nodeId}`)
    if (m.to === this.nodeId || m.to === 0) throw new TransportError('BAD_MESSAGE', `${what} has no remote receiver`)
  }

  private checkOpen(): void {
    if (this.closed) throw new TransportError('CLOSED', `the transport of node ${this.nodeId} is closed`)
  }

  /** Coalesces reports per peer and delivers them on a later turn of the event loop. */
  private reportUnreachable(id: number): void {
    if (this.closed) return
    if (this.pendingUnreachable.size === 0) {
      setImmediate(() => {
        const ids = [...this.pendingUnreachable]
        this.pendingUnreachable.clear()
        if (this.closed) return
        for (const peer of ids) for (const cb of this.unreachableListeners) cb(peer)
      })
    }
    this.pendingUnreachable.add(id)
  }

  private reportSnapshot(id: number, ok: boolean): void {
    if (this.closed) return
    for (const cb of this.snapshotListeners) cb(id, ok)
  }
}

function checkedId(what: string, v: number): number {
  if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`${what} must be a positive integer, got ${String(v)}`)
  return v
}
