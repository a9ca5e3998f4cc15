/**
 * The stream of Raft messages to one peer. Messages wait in a bounded queue and are written as
 * PeerBatches on one long-lived Peer.Stream call, at most `maxInflightBatches` at a time, so a
 * slow or stalled peer fills only its own queue: the newest non-essential messages are then
 * dropped and the peer reported unreachable, and nothing else waits.
 *
 * States: idle (no call) → connecting (call opened, not yet accepted) → open (the receiver sent
 * response headers after accepting the first batch). When the call ends with an error — the
 * connection failed or broke, or the receiver refused the stream — the queue is dropped, the peer
 * reported unreachable, and the pipe waits in backoff (dropping and reporting whatever is sent to
 * it) for reconnectDelay(limits, consecutive failures): a delay that doubles after each failure,
 * never exceeds maxBackoffMs, and starts again from initialBackoffMs once a stream is accepted.
 * Raft tolerates the loss: the leader resends appends, heartbeats recur, and reportUnreachable
 * makes the core probe the follower instead of streaming to it (raft-rs `report_unreachable`).
 */
import {type ClientWritableStream, credentials, type ServiceError, status} from '@grpc/grpc-js'
import {channelOptions, reconnectDelay, type TransportLimits, type TransportLogger} from './options.js'
import {BoundedQueue, type QueuedMessage} from './queue.js'
import {encodeBatch, encodeHeaderField, RawPeerClient} from './wire.js'

export type PipeState = 'idle' | 'connecting' | 'open' | 'backoff' | 'closed'

/** What a pipe needs from its transport. */
export interface PipeContext {
  readonly clusterId: number
  readonly nodeId: number
  readonly limits: TransportLimits
  readonly log: TransportLogger
  /** Reports the peer unreachable to the transport's listeners (asynchronously). */
  readonly reportUnreachable: (id: number) => void
  /** Reports that the peer refused this node's stream, with the status and its reason. */
  readonly reportRefused: (id: number, code: status, reason: string) => void
}

/** Counters of one peer, for status output and tests. */
export interface PeerStats {
  readonly address: string
  readonly state: PipeState
  readonly queuedMessages: number
  readonly queuedBytes: number
  readonly inflightBatches: number
  readonly sentMessages: number
  readonly droppedMessages: number
  readonly nextBackoffMs: number
}

/** Refusal codes a receiver answers with; logged as a refusal rather than as a network failure. */
const REFUSALS = new Set([status.FAILED_PRECONDITION, status.PERMISSION_DENIED, status.INVALID_ARGUMENT])
const DROP_LOG_INTERVAL_MS = 1000

export class PeerPipe {
  private client: RawPeerClient
  private call: ClientWritableStream<Uint8Array> | null = null
  private state: PipeState = 'idle'
  private readonly queue: BoundedQueue
  private readonly headerField: Uint8Array
  private inflight = 0
  /** Streams that failed in a row since one was last accepted. */
  private failures = 0
  private backoffTimer: NodeJS.Timeout | null = null
  private flushScheduled = false
  private sent = 0
  private dropped = 0
  private unloggedDrops = 0
  private lastDropLog = 0

  constructor(readonly id: number, private address: string, private readonly ctx: PipeContext) {
    const l = ctx.limits
    this.queue = new BoundedQueue({
      maxMessages: l.maxQueueMessages, maxBytes: l.maxQueueBytes,
      reserve: l.essentialReserve, reserveBytes: l.maxBatchBytes,
    })
    this.headerField = encodeHeaderField({clusterId: ctx.clusterId, from: ctx.nodeId, to: id})
    this.client = this.newClient()
  }

  /** Queues messages for this peer without blocking; drops what does not fit and reports it. */
  enqueue(messages: readonly QueuedMessage[]): void {
    if (this.state === 'closed') return
    if (this.state === 'backoff') {
      this.drop(messages.length, 'peer unreachable, waiting to reconnect')
      return
    }
    let refused = 0
    for (const m of messages) if (!this.queue.push(m)) refused++
    if (refused > 0) this.drop(refused, 'queue full')
    this.scheduleFlush()
  }

  /** Points the pipe at a new address: the current stream and queue are dropped. */
  update(address: string): void {
    if (address === this.address || this.state === 'closed') return
    this.ctx.log('peer-address-updated', {peer: this.id, from: this.address, to: address})
    this.stopCall()
    this.clearBackoff()
    this.client.close()
    this.address = address
    this.client = this.newClient()
    this.queue.clear()
    this.failures = 0
    this.state = 'idle'
  }

  /** Stops the pipe for good: cancels the stream, drops the queue, closes the channel. */
  close(): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.stopCall()
    this.clearBackoff()
    this.queue.clear()
    this.client.close()
  }

  get peerAddress(): string {
    return this.address
  }

  stats(): PeerStats {
    return {
      address: this.address, state: this.state, queuedMessages: this.queue.length,
      queuedBytes: this.queue.bytes, inflightBatches: this.inflight, sentMessages: this.sent,
      droppedMessages: this.dropped, nextBackoffMs: reconnectDelay(this.ctx.limits, this.failures + 1),
    }
  }

  private newClient(): RawPeerClient {
    return new RawPeerClient(this.address, credentials.createInsecure(), channelOptions(this.ctx.limits))
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    setImmediate(() => {
      this.flushScheduled = false
      this.flush()
    })
  }

  /** Writes queued messages as batches while the in-flight limit allows. */
  private flush(): void {
    if (this.state === 'closed' || this.state === 'backoff' || this.queue.length === 0) return
    const call = this.call ?? this.open()
    const l = this.ctx.limits
    while (this.inflight < l.maxInflightBatches && this.queue.length > 0) {
      const batch = this.queue.takeBatch(l.maxBatchMessages, l.maxBatchBytes)
      this.inflight++
      call.write(encodeBatch(this.headerField, batch), () => {
        if (this.call !== call) return
        this.inflight--
        this.sent += batch.length
        if (this.queue.length > 0) this.scheduleFlush()
      })
    }
  }

  private open(): ClientWritableStream<Uint8Array> {
    const call = this.client.stream({}, (err) => this.onEnd(call, err))
    call.on('error', () => {}) // failures arrive through the callback above
    call.on('metadata', () => this.onAccepted(call))
    this.call = call
    this.state = 'connecting'
    return call
  }

  private onAccepted(call: ClientWritableStream<Uint8Array>): void {
    if (this.call !== call || this.state !== 'connecting') return
    this.state = 'open'
    this.failures = 0
    this.ctx.log('peer-stream-accepted', {peer: this.id, address: this.address})
  }

  /** The call ended: report, drop the queue and back off (unless this pipe ended it itself). */
  private onEnd(call: ClientWritableStream<Uint8Array>, err: ServiceError | null): void {
    if (this.call !== call) return
    this.call = null
    this.inflight = 0
    if (this.state === 'closed') return
    const lost = this.queue.clear()
    if (err === null || err.code === status.OK) {
      this.state = 'idle'
      return
    }
    this.failures++
    const delay = reconnectDelay(this.ctx.limits, this.failures)
    const event = REFUSALS.has(err.code) ? 'peer-stream-refused' : 'peer-unreachable'
    this.ctx.log(event, {
      peer: this.id, address: this.address, code: status[err.code], reason: err.details,
      droppedMessages: lost, retryInMs: delay,
    })
    this.dropped += lost
    this.ctx.reportUnreachable(this.id)
    if (REFUSALS.has(err.code)) this.ctx.reportRefused(this.id, err.code, err.details)
    this.startBackoff(delay)
  }

  private startBackoff(delay: number): void {
    this.state = 'backoff'
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = null
      if (this.state === 'backoff') this.state = 'idle'
    }, delay)
    this.backoffTimer.unref()
  }

  private clearBackoff(): void {
    if (this.backoffTimer !== null) clearTimeout(this.backoffTimer)
    this.backoffTimer = null
  }

  private stopCall(): void {
    const call = this.call
    this.call = null
    this.inflight = 0
    call?.cancel()
  }

  /** Counts dropped messages, reports the peer, and logs at most once a second. */
  private drop(count: number, reason: string): void {
    this.dropped += count
    this.unloggedDrops += count
    this.ctx.reportUnreachable(this.id)
    const now = Date.now()
    if (now - this.lastDropLog < DROP_LOG_INTERVAL_MS) return
    this.ctx.log('peer-messages-dropped', {peer: this.id, count: this.unloggedDrops, reason})
    this.unloggedDrops = 0
    this.lastDropLog = now
  }
}
