/**
 * A watch that survives the loss of the member serving it. Events arrive one revision per batch
 * in revision order. The client remembers the last revision it received; when the stream breaks
 * (the member stopped, a leader change cut the connection, the member was restarted) it reopens
 * the watch on the next endpoint from that revision + 1, so no revision is skipped or repeated.
 *
 * The server's first response on a stream has no events and says the revision the watch starts
 * after; a watch with start revision 0 learns its position from it. When a member cannot serve
 * the resume revision (its in-memory history does not reach back that far: COMPACTED) the other
 * endpoints are tried; when none can, the watch ends with an OUT_OF_RANGE ClientError naming the
 * oldest revision that is available. A watch that finds no member for `resumeTimeoutMs` ends
 * with UNAVAILABLE. A response from a member of another cluster than the connection's ends the
 * watch with the connection's FAILED_PRECONDITION error (ClusterConnection.checkClusterId).
 */
import {type ClientReadableStream, type ServiceError, status} from '@grpc/grpc-js'
import {type Event, KVClient, type WatchRequest, type WatchResponse} from '../generated/raftctl/v1/kv.js'
import type {ClusterConnection} from './connection.js'
import {ClientError} from './rpc.js'

/** The events of one revision. */
export interface WatchBatch {
  readonly revision: number
  readonly events: readonly Event[]
}

export interface WatchOptions {
  /** How long the watch may be without any member before it fails. Default 30 s. */
  readonly resumeTimeoutMs?: number
}

const BACKOFF_MS = 100
const MAX_BACKOFF_MS = 1000

export class WatchStream implements AsyncIterable<WatchBatch> {
  private lastRevision: number | undefined
  private readonly queue: WatchBatch[] = []
  private waiting: {resolve: (r: IteratorResult<WatchBatch>) => void, reject: (e: Error) => void} | undefined
  private error: Error | undefined
  private done = false
  private call: ClientReadableStream<WatchResponse> | undefined
  private endpointIndex: number
  private lostSince: number | undefined
  private backoff = BACKOFF_MS
  private compactedAt = new Map<string, number>()
  private timer: NodeJS.Timeout | undefined
  private readonly resumeTimeoutMs: number

  constructor(private readonly conn: ClusterConnection, private readonly req: WatchRequest, opts: WatchOptions = {}) {
    this.resumeTimeoutMs = opts.resumeTimeoutMs ?? 30_000
    if (req.startRevision > 0) this.lastRevision = req.startRevision - 1
    const leader = conn.leaderEndpoint
    this.endpointIndex = Math.max(0, leader === undefined ? 0 : conn.endpoints.indexOf(leader))
    this.open()
  }

  /** The revision of the last batch received (or the revision the watch starts after). */
  get revision(): number | undefined {
    return this.lastRevision
  }

  /** The endpoint currently serving the watch. */
  get endpoint(): string {
    return this.conn.endpoints[this.endpointIndex]
  }

  /** Ends the watch; a pending iteration resolves as done. */
  cancel(): void {
    if (this.done) return
    this.done = true
    clearTimeout(this.timer)
    this.call?.cancel()
    this.call = undefined
    this.waiting?.resolve({value: undefined, done: true})
    this.waiting = undefined
  }

  /** Resolves with the next batch; rejects with the error that ended the watch. */
  next(): Promise<IteratorResult<WatchBatch>> {
    const b = this.queue.shift()
    if (b !== undefined) return Promise.resolve({value: b, done: false})
    if (this.error !== undefined) return Promise.reject(this.error)
    if (this.done) return Promise.resolve({value: undefined, done: true})
    return new Promise((resolve, reject) => {
      this.waiting = {resolve, reject}
    })
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchBatch> {
    return {next: () => this.next(), return: async () => {
      this.cancel()
      return {value: undefined, done: true}
    }}
  }

  private open(): void {
    if (this.done) return
    const endpoint = this.endpoint
    const start = this.lastRevision === undefined ? 0 : this.lastRevision + 1
    const call = this.conn.client(KVClient, endpoint).watch({...this.req, startRevision: start})
    this.call = call
    let ended = false
    const end = (err: ServiceError | undefined): void => {
      if (ended) return
      ended = true
      if (this.call === call) this.call = undefined
      if (!this.done) this.reconnect(err)
    }
    call.on('data', (res: WatchResponse) => this.onResponse(call, endpoint, res))
    call.on('error', (err: ServiceError) => end(err))
    call.on('end', () => end(undefined))
  }

  private onResponse(call: ClientReadableStream<WatchResponse>, endpoint: string, res: WatchResponse): void {
    if (this.done || this.call !== call) return
    try {
      this.conn.checkClusterId(endpoint, res)
    } catch (err) {
      this.fail(err as Error)
      call.cancel()
      return
    }
    this.lostSince = undefined
    this.backoff = BACKOFF_MS
    if (res.canceled) {
      if (res.compactRevision > 0) this.compactedAt.set(endpoint, res.compactRevision)
      call.cancel()
      return
    }
    this.compactedAt.delete(endpoint)
    const rev = res.header?.revision ?? 0
    if (res.events.length === 0) {
      if (this.lastRevision === undefined) this.lastRevision = rev
      return
    }
    if (this.lastRevision !== undefined && rev <= this.lastRevision) return
    this.lastRevision = rev
    this.deliver({revision: rev, events: res.events})
  }

  private deliver(b: WatchBatch): void {
    const w = this.waiting
    if (w !== undefined) {
      this.waiting = undefined
      w.resolve({value: b, done: false})
    } else {
      this.queue.push(b)
    }
  }

  private reconnect(err: ServiceError | undefined): void {
    const n = this.conn.endpoints.length
    if (this.compactedAt.size >= n) {
      const oldest = Math.min(...this.compactedAt.values())
      return this.fail(new ClientError(status.OUT_OF_RANGE,
        `the watch cannot resume at revision ${(this.lastRevision ?? 0) + 1}: no member retains it (the oldest available is ${oldest})`))
    }
    if (err !== undefined && err.code !== status.UNAVAILABLE && err.code !== status.CANCELLED &&
        err.code !== status.INTERNAL && err.code !== status.UNKNOWN) {
      return this.fail(new ClientError(err.code, err.details || err.message, this.endpoint))
    }
    this.lostSince ??= Date.now()
    if (Date.now() - this.lostSince > this.resumeTimeoutMs) {
      return this.fail(new ClientError(status.UNAVAILABLE,
        `the watch lost its member and no endpoint (${this.conn.endpoints.join(', ')}) served it for ${this.resumeTimeoutMs / 1000} s`))
    }
    this.endpointIndex = (this.endpointIndex + 1) % n
    const delay = this.backoff
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS)
    this.timer = setTimeout(() => this.open(), delay)
  }

  private fail(err: Error): void {
    if (this.done) return
    this.done = true
    this.error = err
    const w = this.waiting
    this.waiting = undefined
    if (w !== undefined && this.queue.length === 0) w.reject(err)
  }
}
