/**
 * A watch over etcd's Watch service that survives the loss of the member serving it. Events
 * arrive one revision per batch, in revision order. The client remembers the last revision it
 * received; when the stream breaks (the member stopped, a leader change cut the connection, the
 * member was restarted) it opens the watch again on the next endpoint from that revision + 1, so
 * no revision is skipped or repeated: every member keeps the history on disk until it is
 * compacted, so any member can replay it.
 *
 * Each stream carries one watch. The server's `created` answer gives the revision the store had
 * when the watch was made; a watch with start revision 0 starts after it. An answer may hold the
 * events of several revisions (a watch catching up from history): they are split into one batch
 * per revision (an event's revision is its kv's mod_revision, for a delete too), and the
 * answer's header revision says every revision up to it was seen. A progress answer (no events)
 * advances the position the same way.
 *
 * A start revision that was compacted ends the watch at once with OUT_OF_RANGE naming the
 * compact revision (compaction goes through the log, so every member refuses the same
 * revisions). A watch that finds no member for `resumeTimeoutMs` ends with UNAVAILABLE. A
 * response from a member of another cluster than the connection's ends the watch with the
 * connection's FAILED_PRECONDITION error (ClusterConnection.checkClusterId).
 */
import {type ClientDuplexStream, type ServiceError, status} from '@grpc/grpc-js'
import {
  type WatchCreateRequest, WatchCreateRequest_FilterType, WatchClient, type WatchRequest, type WatchResponse,
} from '../generated/etcd/etcdserverpb/watch.js'
import type {Event} from '../generated/etcd/mvccpb/kv.js'
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

/** What is watched: etcd's WatchCreateRequest without the fields the stream manages. */
export interface WatchSpec {
  readonly key: Uint8Array
  readonly rangeEnd: Uint8Array
  /** First revision to deliver; 0 = the revision after the current one. */
  readonly startRevision: number
  readonly prevKv: boolean
  readonly noPut?: boolean
  readonly noDelete?: boolean
}

const BACKOFF_MS = 100
const MAX_BACKOFF_MS = 1000

/** Splits an answer's events into one batch per revision, in order. */
export function batchesOf(events: readonly Event[]): WatchBatch[] {
  const out: Array<{revision: number, events: Event[]}> = []
  for (const e of events) {
    const rev = e.kv?.modRevision ?? 0
    const last = out[out.length - 1]
    if (last !== undefined && last.revision === rev) last.events.push(e)
    else out.push({revision: rev, events: [e]})
  }
  return out
}

export class WatchStream implements AsyncIterable<WatchBatch> {
  private lastRevision: number | undefined
  private readonly queue: WatchBatch[] = []
  private waiting: {resolve: (r: IteratorResult<WatchBatch>) => void, reject: (e: Error) => void} | undefined
  private error: Error | undefined
  private done = false
  private call: ClientDuplexStream<WatchRequest, WatchResponse> | undefined
  private endpointIndex: number
  private lostSince: number | undefined
  private backoff = BACKOFF_MS
  private timer: NodeJS.Timeout | undefined
  private readonly resumeTimeoutMs: number

  constructor(private readonly conn: ClusterConnection, private readonly spec: WatchSpec, opts: WatchOptions = {}) {
    this.resumeTimeoutMs = opts.resumeTimeoutMs ?? 30_000
    if (spec.startRevision > 0) this.lastRevision = spec.startRevision - 1
    const leader = conn.leaderEndpoint
    this.endpointIndex = Math.max(0, leader === undefined ? 0 : conn.endpoints.indexOf(leader))
    this.open()
  }

  /** The last revision the watch has fully seen (or the revision it starts after, once known). */
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

  private createRequest(): WatchCreateRequest {
    const filters: WatchCreateRequest_FilterType[] = []
    if (this.spec.noPut === true) filters.push(WatchCreateRequest_FilterType.NOPUT)
    if (this.spec.noDelete === true) filters.push(WatchCreateRequest_FilterType.NODELETE)
    return {
      key: this.spec.key, rangeEnd: this.spec.rangeEnd, prevKv: this.spec.prevKv, filters,
      startRevision: this.lastRevision === undefined ? 0 : this.lastRevision + 1,
      progressNotify: false, watchId: 0n, fragment: false,
    }
  }

  private open(): void {
    if (this.done) return
    const endpoint = this.endpoint
    const call = this.conn.client(WatchClient, endpoint).watch()
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
    call.write({createRequest: this.createRequest()})
  }

  private onResponse(call: ClientDuplexStream<WatchRequest, WatchResponse>, endpoint: string, res: WatchResponse): void {
    if (this.done || this.call !== call) return
    try {
      const clusterId = res.header?.clusterId
      this.conn.checkClusterId(endpoint, {header: {clusterId: clusterId === undefined ? 0 : Number(clusterId)}})
    } catch (err) {
      this.fail(err as Error)
      call.cancel()
      return
    }
    this.lostSince = undefined
    this.backoff = BACKOFF_MS
    const rev = res.header?.revision ?? 0
    if (res.canceled) return this.onCanceled(call, endpoint, res)
    if (res.created) {
      if (this.lastRevision === undefined) this.lastRevision = rev
      return
    }
    for (const b of batchesOf(res.events)) {
      if (this.lastRevision !== undefined && b.revision <= this.lastRevision) continue
      this.deliver(b)
    }
    if (this.lastRevision === undefined || rev > this.lastRevision) this.lastRevision = rev
  }

  /**
   * A compacted start ends the watch; any other cancel (reading the history failed on that
   * member) makes it resume elsewhere.
   */
  private onCanceled(call: ClientDuplexStream<WatchRequest, WatchResponse>, endpoint: string, res: WatchResponse): void {
    call.cancel()
    if (res.compactRevision !== 0) {
      const from = (this.lastRevision ?? 0) + 1
      this.fail(new ClientError(status.OUT_OF_RANGE, `the watch cannot start at revision ${from}: it was compacted ` +
        `(compact revision ${res.compactRevision}); read the current state with raftctl kv get and watch again from its revision + 1`, endpoint))
    }
  }

  private deliver(b: WatchBatch): void {
    this.lastRevision = b.revision
    const w = this.waiting
    if (w !== undefined) {
      this.waiting = undefined
      w.resolve({value: b, done: false})
    } else {
      this.queue.push(b)
    }
  }

  private reconnect(err: ServiceError | undefined): void {
    if (err !== undefined && err.code !== status.UNAVAILABLE && err.code !== status.CANCELLED &&
        err.code !== status.INTERNAL && err.code !== status.UNKNOWN) {
      return this.fail(new ClientError(err.code, err.details || err.message, this.endpoint))
    }
    this.lostSince ??= Date.now()
    if (Date.now() - this.lostSince > this.resumeTimeoutMs) {
      return this.fail(new ClientError(status.UNAVAILABLE,
        `the watch lost its member and no endpoint (${this.conn.endpoints.join(', ')}) served it for ${this.resumeTimeoutMs / 1000} s`))
    }
    this.endpointIndex = (this.endpointIndex + 1) % this.conn.endpoints.length
    const delay = this.backoff
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS)
    this.timer = setTimeout(() => this.open(), delay)
  }

  private fail(err: Error): void {
    if (this.done) return
    this.done = true
    this.error = err
    clearTimeout(this.timer)
    const w = this.waiting
    this.waiting = undefined
    if (w !== undefined && this.queue.length === 0) w.reject(err)
  }
}
