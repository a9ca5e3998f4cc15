/**
 * A session: a lease kept alive for as long as its owner lives, as etcd's concurrency.Session.
 * Locks and elections put their keys with the session's lease, so the keys vanish when the
 * session ends: by close() (which revokes the lease), or because its owner died or lost the
 * server and nobody renewed the lease within its TTL.
 *
 * Keep-alive: one LeaseKeepAlive stream; a request when the session starts and then a third of
 * the TTL after each answer (clientv3's rhythm). A stream that fails is opened again every
 * RETRY_MS.
 *
 * Loss is reported at once (`done` resolves and onEnd listeners run) when:
 * - a keep-alive is answered with TTL <= 0: the lease expired or was revoked by someone else
 *   (reason 'expired');
 * - no keep-alive was confirmed within the TTL: the server is unreachable or does not answer,
 *   and the lease may have expired (reason 'unconfirmed'). The bound is the TTL counted from the
 *   moment the last confirmed request was *sent*, which is never later than the server's own
 *   expiry time, so a session never believes itself alive after its lease could have expired;
 * - close() revoked it (reason 'closed'), or orphan() stopped the keep-alives (reason
 *   'orphaned'; the lease then expires on its own).
 * Invariant: while `ended` is undefined, the lease was confirmed alive less than one TTL ago.
 */
import type {ClientDuplexStream} from '@grpc/grpc-js'
import type {LeaseKeepAliveRequest, LeaseKeepAliveResponse} from '../../generated/etcd/etcdserverpb/lease.js'
import {abortReason, type EtcdClient, RETRY_MS} from './etcd.js'
import {SessionError} from './errors.js'

/** etcd's default session TTL, in seconds. */
export const DEFAULT_SESSION_TTL = 60

/** What locks and elections need of a session: a client and the lease their keys are put with. */
export interface LeaseHolder {
  readonly client: EtcdClient
  readonly lease: bigint
}

export type SessionEndReason = 'closed' | 'orphaned' | 'expired' | 'unconfirmed'

/** Why a session ended, with a one-sentence message naming the lease. */
export interface SessionEnd {
  readonly reason: SessionEndReason
  readonly message: string
}

export interface SessionOptions {
  /** TTL of the lease to grant, in seconds (default 60). Ignored when `lease` is given. */
  readonly ttl?: number
  /** Keep this existing lease alive instead of granting one. */
  readonly lease?: bigint
  /** Aborts the start (the grant or the first keep-alive). */
  readonly signal?: AbortSignal
}

/** The lease id as etcd writes it in keys and etcdctl prints it: lower-case hex. */
export const leaseHex = (lease: bigint): string => lease.toString(16)

/**
 * Returns the lease a server-side handler acts with, as etcd's v3lock/v3election servers do
 * (NewSession with the request's lease, then Orphan): the given lease unchanged, or for lease 0
 * a new lease of DEFAULT_SESSION_TTL seconds that nobody keeps alive.
 */
export async function detachedLease(client: EtcdClient, lease: bigint, signal?: AbortSignal): Promise<LeaseHolder> {
  if (lease !== 0n) return {client, lease}
  const res = await client.leaseGrant(DEFAULT_SESSION_TTL, signal)
  return {client, lease: res.ID}
}

export class Session implements LeaseHolder {
  /** Resolves once, when the session ends. */
  readonly done: Promise<SessionEnd>
  /** The lease's TTL in seconds, as the server last reported it. */
  ttlSeconds: number
  private resolveDone!: (end: SessionEnd) => void
  private endValue: SessionEnd | undefined
  private readonly listeners: Array<(end: SessionEnd) => void> = []
  private stream: ClientDuplexStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse> | undefined
  /** Send times of the requests not answered yet on the current stream, oldest first. */
  private sent: number[] = []
  private deadline: number
  private lastError = ''
  private sendTimer: NodeJS.Timeout | undefined
  private deadlineTimer: NodeJS.Timeout | undefined
  /** Called at the first keep-alive answer (Session.create with an existing lease waits for it). */
  private onFirstAnswer: (() => void) | undefined

  private constructor(readonly client: EtcdClient, readonly lease: bigint, ttl: number, confirmedAt: number) {
    this.done = new Promise((resolve) => { this.resolveDone = resolve })
    this.ttlSeconds = ttl
    this.deadline = confirmedAt + ttl * 1000
  }

  /**
   * Starts a session: grants a lease of `ttl` seconds (or takes `lease`) and keeps it alive.
   * With `lease`, waits for the first keep-alive answer and fails when the lease does not exist.
   */
  static async create(client: EtcdClient, opts: SessionOptions = {}): Promise<Session> {
    const ttl = opts.ttl ?? DEFAULT_SESSION_TTL
    if (!Number.isSafeInteger(ttl) || ttl <= 0) throw new SessionError(`session TTL must be a positive whole number of seconds, got ${ttl}`)
    if (opts.lease === undefined) {
      const sentAt = Date.now()
      const res = await client.leaseGrant(ttl, opts.signal)
      if (res.error !== '') throw new SessionError(`lease grant failed: ${res.error}`)
      const s = new Session(client, res.ID, res.TTL, sentAt)
      s.openStream()
      return s
    }
    const s = new Session(client, opts.lease, ttl, Date.now())
    s.openStream()
    await s.firstAnswer(opts.signal)
    return s
  }

  /** Why the session ended, or undefined while it lives. */
  get ended(): SessionEnd | undefined {
    return this.endValue
  }

  /** Calls `listener` once when the session ends (at once if it has ended already). */
  onEnd(listener: (end: SessionEnd) => void): void {
    if (this.endValue !== undefined) listener(this.endValue)
    else this.listeners.push(listener)
  }

  /** Stops the keep-alives without revoking: the lease expires after its TTL (etcd's Orphan). */
  orphan(): void {
    this.end('orphaned', `session of lease ${leaseHex(this.lease)} was orphaned: its keep-alives stopped and it expires within ${this.ttlSeconds} s`)
  }

  /**
   * Ends the session and revokes its lease, deleting every key put with it. The revoke is
   * bounded by the TTL (after which the lease has expired anyway) and by `signal`.
   */
  async close(signal?: AbortSignal): Promise<void> {
    this.end('closed', `session of lease ${leaseHex(this.lease)} was closed`)
    const bound = AbortSignal.timeout(this.ttlSeconds * 1000)
    await this.client.leaseRevoke(this.lease, signal === undefined ? bound : AbortSignal.any([signal, bound]))
  }

  /** Resolves at the first keep-alive answer; rejects if the session ends first or `signal` fires. */
  private firstAnswer(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void => this.orphan()
      this.onFirstAnswer = (): void => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      this.onEnd((end) => {
        signal?.removeEventListener('abort', onAbort)
        reject(signal?.aborted === true ? abortReason(signal) : new SessionError(end.message))
      })
      if (signal?.aborted === true) onAbort()
      else signal?.addEventListener('abort', onAbort, {once: true})
    })
  }

  private openStream(): void {
    if (this.endValue !== undefined) return
    const stream = this.client.keepAliveStream()
    this.stream = stream
    this.sent = []
    stream.on('data', (res: LeaseKeepAliveResponse) => this.answered(res))
    stream.on('error', (err: Error) => this.streamFailed(stream, err.message))
    stream.on('end', () => this.streamFailed(stream, 'the keep-alive stream ended'))
    this.armDeadline()
    this.send()
  }

  private send(): void {
    clearTimeout(this.sendTimer)
    if (this.stream === undefined || this.endValue !== undefined) return
    this.sent.push(Date.now())
    this.stream.write({ID: this.lease})
  }

  private answered(res: LeaseKeepAliveResponse): void {
    const sentAt = this.sent.shift() ?? Date.now()
    if (this.endValue !== undefined) return
    if (res.TTL <= 0) {
      this.end('expired', `lease ${leaseHex(this.lease)} expired or was revoked: its keep-alive was answered with TTL ${res.TTL}`)
      return
    }
    this.ttlSeconds = res.TTL
    this.deadline = Math.max(this.deadline, sentAt + res.TTL * 1000)
    this.armDeadline()
    const first = this.onFirstAnswer
    this.onFirstAnswer = undefined
    first?.()
    clearTimeout(this.sendTimer)
    this.sendTimer = setTimeout(() => this.send(), (res.TTL * 1000) / 3)
  }

  private streamFailed(stream: ClientDuplexStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse>, why: string): void {
    if (stream !== this.stream || this.endValue !== undefined) return
    this.lastError = why
    this.stream = undefined
    clearTimeout(this.sendTimer)
    this.sendTimer = setTimeout(() => this.openStream(), RETRY_MS)
  }

  private armDeadline(): void {
    clearTimeout(this.deadlineTimer)
    this.deadlineTimer = setTimeout(() => {
      const last = this.lastError === '' ? 'no answer' : `last error: ${this.lastError}`
      this.end('unconfirmed', `lease ${leaseHex(this.lease)}: no keep-alive was confirmed within its TTL of ${this.ttlSeconds} s (${last}); it may have expired`)
    }, Math.max(0, this.deadline - Date.now()))
  }

  private end(reason: SessionEndReason, message: string): void {
    if (this.endValue !== undefined) return
    this.endValue = {reason, message}
    clearTimeout(this.sendTimer)
    clearTimeout(this.deadlineTimer)
    const stream = this.stream
    this.stream = undefined
    stream?.cancel()
    this.resolveDone(this.endValue)
    for (const l of this.listeners.splice(0)) l(this.endValue)
  }
}
