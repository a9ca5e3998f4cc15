/**
 * Tunables of the peer transport with their defaults, and the gRPC channel and server options
 * derived from them. Defaults suit a 3–7 node cluster on a LAN with a 100 ms tick.
 */
import type {ChannelOptions} from '@grpc/grpc-js'

/** One structured log line: an event name (kebab-case) and its fields. */
export type TransportLogger = (event: string, fields: Record<string, unknown>) => void

export interface TransportLimits {
  /**
   * Messages a peer's queue holds before non-essential messages (appends, heartbeats and their
   * responses, forwarded proposals) are dropped. Default 1024.
   */
  readonly maxQueueMessages: number
  /** Encoded bytes a peer's queue holds before non-essential messages are dropped. Default 16 MiB. */
  readonly maxQueueBytes: number
  /**
   * Extra room kept for essential messages (votes, pre-votes, their responses, leader transfer,
   * read index) once the queue is full, so a backlog of appends cannot stall an election.
   * Default 64 messages (and maxBatchBytes of extra bytes).
   */
  readonly essentialReserve: number
  /** Most messages in one PeerBatch. Default 256. */
  readonly maxBatchMessages: number
  /** Most encoded bytes in one PeerBatch; a single larger message travels alone. Default 1 MiB. */
  readonly maxBatchBytes: number
  /** Batches written to a stream but not yet handed to the socket. Default 4. */
  readonly maxInflightBatches: number
  /** Largest message or batch either side accepts (gRPC message size limit). Default 64 MiB. */
  readonly maxMessageBytes: number
  /** First reconnect delay after a stream broke or could not be opened. Default 100 ms. */
  readonly initialBackoffMs: number
  /**
   * Upper bound of the reconnect delay, which doubles after each failure; gRPC's own reconnect
   * delay of the peer's channel shares it. Default 2000 ms; a node sets it from its election
   * timeout (reconnectBackoff).
   */
  readonly maxBackoffMs: number
  /** Interval of HTTP/2 keepalive pings that detect a silent peer. Default 10 s. */
  readonly keepaliveMs: number
  /** Largest data piece of one SnapshotChunk. Default 1 MiB. */
  readonly snapshotChunkBytes: number
  /** Deadline of one whole snapshot transfer, including the receiver applying it. Default 10 min. */
  readonly snapshotTimeoutMs: number
}

export const MIB = 1024 * 1024

export const DEFAULT_LIMITS: TransportLimits = Object.freeze({
  maxQueueMessages: 1024,
  maxQueueBytes: 16 * MIB,
  essentialReserve: 64,
  maxBatchMessages: 256,
  maxBatchBytes: MIB,
  maxInflightBatches: 4,
  maxMessageBytes: 64 * MIB,
  initialBackoffMs: 100,
  maxBackoffMs: 2000,
  keepaliveMs: 10_000,
  snapshotChunkBytes: MIB,
  snapshotTimeoutMs: 10 * 60_000,
})

/** The smallest reconnect delay cap reconnectBackoff() chooses, whatever the election timeout. */
export const MIN_BACKOFF_MS = 10

/**
 * The reconnect back-off of a node whose election timeout is `electionTimeoutMs`. The delay is
 * capped at a quarter of the election timeout (and at DEFAULT_LIMITS.maxBackoffMs), so a leader
 * reaches a peer that comes back — a restarted follower, a learner that has just started
 * listening — within about half an election timeout (the pipe's delay, then at most gRPC's own
 * reconnect delay, which has the same cap), well before check-quorum could make it step down.
 * The first delay is never above the cap.
 */
export function reconnectBackoff(electionTimeoutMs: number): Pick<TransportLimits, 'initialBackoffMs' | 'maxBackoffMs'> {
  const max = Math.max(MIN_BACKOFF_MS, Math.min(DEFAULT_LIMITS.maxBackoffMs, Math.floor(electionTimeoutMs / 4)))
  return {initialBackoffMs: Math.min(DEFAULT_LIMITS.initialBackoffMs, max), maxBackoffMs: max}
}

/**
 * The reconnect delay after `failures` consecutive failed streams (1 for the first): the initial
 * delay, doubled for each further failure, never above the maximum.
 */
export function reconnectDelay(limits: Pick<TransportLimits, 'initialBackoffMs' | 'maxBackoffMs'>, failures: number): number {
  const doublings = Math.max(0, Math.min(failures - 1, 52))
  return Math.min(limits.initialBackoffMs * 2 ** doublings, limits.maxBackoffMs)
}

/** Merges overrides into the defaults and checks every value is a positive safe integer. */
export function resolveLimits(overrides: Partial<TransportLimits> = {}): TransportLimits {
  const limits = {...DEFAULT_LIMITS, ...overrides}
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`transport option ${name} must be a positive integer, got ${String(value)}`)
    }
  }
  if (limits.maxBackoffMs < limits.initialBackoffMs) {
    throw new RangeError('transport option maxBackoffMs must be at least initialBackoffMs')
  }
  if (limits.maxBatchBytes * 2 > limits.maxMessageBytes || limits.snapshotChunkBytes * 2 > limits.maxMessageBytes) {
    throw new RangeError('transport options maxBatchBytes and snapshotChunkBytes must be at most half of maxMessageBytes')
  }
  return limits
}

/**
 * Channel options of a client to one peer. Every client gets its own subchannel pool, so the
 * snapshot client opens its own TCP connection and a large transfer never shares HTTP/2 flow
 * control with the message stream. Transparent retries are off: Raft tolerates lost messages and
 * retry buffering would hide back-pressure.
 */
export function channelOptions(limits: TransportLimits): ChannelOptions {
  return {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.enable_retries': 0,
    'grpc.initial_reconnect_backoff_ms': limits.initialBackoffMs,
    'grpc.max_reconnect_backoff_ms': limits.maxBackoffMs,
    'grpc.keepalive_time_ms': limits.keepaliveMs,
    'grpc.keepalive_timeout_ms': Math.max(1000, Math.floor(limits.keepaliveMs / 2)),
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.max_send_message_length': limits.maxMessageBytes,
    'grpc.max_receive_message_length': limits.maxMessageBytes,
  }
}

/**
 * Server options matching channelOptions: the same message size limit, and keepalive pings from
 * the server so that the stream of a sender that vanished without closing is cleaned up.
 */
export function serverOptions(maxMessageBytes: number, keepaliveMs: number): ChannelOptions {
  return {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
    'grpc.keepalive_time_ms': keepaliveMs,
    'grpc.keepalive_timeout_ms': Math.max(1000, Math.floor(keepaliveMs / 2)),
  }
}
