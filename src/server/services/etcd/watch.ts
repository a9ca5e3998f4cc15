/**
 * etcd's Watch service: one bidirectional stream carries any number of watches, served from the
 * member's WatchHub. The protocol is etcd 3.4's, field by field (test/server/etcd_watch*.test.ts
 * compare it with a real etcd):
 *
 * - Create: the answer is `created` with the watch's id and a header whose revision is the
 *   store's revision at creation; events follow in later responses. An empty key means the key
 *   "\0"; range_end "" is one key, "\0" every key >= key. A range with range_end <= key, or a
 *   client-chosen watch_id already in use on the stream, is answered created + canceled with
 *   watch_id -1 and etcd's cancel_reason. Ids chosen by the server count up from 0, skipping
 *   ids in use.
 * - Events: one response per item of the hub (one revision when live, several when catching
 *   up), its header revision the last revision the response covers. A watch asked with
 *   `fragment` has a response above max request bytes + 512 KiB split over several responses,
 *   all but the last marked `fragment` (never inside an event).
 * - A start revision that was compacted: canceled with compact_revision and a header without a
 *   revision; the watch_id stays in use until the client cancels it, as in etcd. A negative
 *   start revision is answered the same way (compact_revision -1 before any compaction).
 * - Cancel: answered `canceled` once; a cancel of an unknown id gets no answer.
 * - Progress: a progress request is answered at once with watch_id -1 and the current revision
 *   (etcd 3.4; it does not wait for watches that are catching up). With progress_notify, a watch
 *   that sent no events during an interval (etcd: 10 minutes, plus up to 10% jitter) gets an
 *   empty response with the current revision, if it is synced.
 * - A client that half-closes keeps receiving events, as with etcd; the stream ends when the
 *   client cancels it, or with UNAVAILABLE when the member stops.
 *
 * Responses leave through one pump per stream that writes only while gRPC accepts more (and stops
 * reading requests until it does), taking one item per watch in turn, so a slow client holds at
 * most its watchers' bounded queues (the hub sets watchers aside when they fill).
 */
import type {ServerDuplexStream} from '@grpc/grpc-js'
import type {ResponseHeader} from '../../../generated/etcd/etcdserverpb/header.js'
import {
  type WatchCreateRequest, WatchCreateRequest_FilterType, type WatchRequest, WatchResponse, type WatchServer,
} from '../../../generated/etcd/etcdserverpb/watch.js'
import {Event} from '../../../generated/etcd/mvccpb/kv.js'
import {type WatchHub, type WatchItem, type Watcher, watchKeyRange} from '../../../kv/watch/index.js'
import {toServiceError, unavailable} from '../../errors.js'
import {noLeader} from '../../requests.js'
import {checkAccepting, etcdHeader, requestOf, requestOptions, type ServiceContext} from '../common.js'

/** etcd's texts, word for word: clients compare them. */
export const REASON_DUPLICATE_ID = 'mvcc: duplicate watch ID provided on the WatchStream'
export const REASON_EMPTY_RANGE = 'mvcc: watcher range is empty'
export const SERVER_STOPPED = 'etcdserver: server stopped'

/** The watch_id of answers that belong to no watch (etcd's InvalidWatchID). */
export const NO_WATCH_ID = -1n
/** etcd's default progress interval. */
export const DEFAULT_PROGRESS_INTERVAL_MS = 10 * 60 * 1000
/** etcd's default --max-request-bytes. */
export const DEFAULT_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024
/** What etcd adds to max request bytes for the fragmenting threshold (gRPC's overhead). */
const GRPC_OVERHEAD_BYTES = 512 * 1024

export interface WatchServiceOptions {
  readonly hub: WatchHub
  /** The header of an answer reflecting `revision` (0: no revision, as etcd's compacted answer). */
  readonly header: (revision: number) => ResponseHeader
  /**
   * Called when a stream opens; throws to refuse it (for example etcd's `hasleader` metadata
   * while there is no leader, or a member that is stopping). The error goes through toServiceError.
   */
  readonly checkStream?: (call: ServerDuplexStream<WatchRequest, WatchResponse>) => void
  /**
   * Checked every `intervalMs` while a stream is open; a throw ends the stream with that error
   * (etcd ends a `hasleader` stream once its member has known no leader for three election
   * timeouts).
   */
  readonly monitorStream?: {readonly intervalMs: number, readonly check: (call: ServerDuplexStream<WatchRequest, WatchResponse>) => void}
  /** Interval of progress_notify answers (default 10 minutes, as etcd). */
  readonly progressIntervalMs?: number
  /** The server's max request bytes; fragmenting splits answers above it + 512 KiB (default 1.5 MiB). */
  readonly maxRequestBytes?: number
}

/** The Watch service over `opts.hub`. */
export function watchService(opts: WatchServiceOptions): WatchServer {
  for (const [k, v] of [['progressIntervalMs', opts.progressIntervalMs], ['maxRequestBytes', opts.maxRequestBytes],
    ['monitorStream.intervalMs', opts.monitorStream?.intervalMs]] as const) {
    if (v !== undefined && (!Number.isSafeInteger(v) || v <= 0)) throw new RangeError(`watch service option ${k} must be a positive integer, got ${v}`)
  }
  return {watch: (call) => new WatchStream(opts, call).open()}
}

/** etcd cancels a `hasleader` stream once its member has had no leader for this many election timeouts. */
const NO_LEADER_TIMEOUTS = 3

/**
 * The Watch service of a running member: its store's hub, headers with the member's ids and
 * term, the progress interval and request size of its settings; streams are refused while the
 * member is not accepting requests. As etcd's, a stream opened with `hasleader: true` metadata is
 * refused while the member knows no leader and ended once it has known none for three election
 * timeouts (checked every election timeout); other streams do not depend on a leader.
 */
export function nodeWatchService(ctx: ServiceContext): WatchServer {
  const node = ctx.node
  const requireLeader = (call: ServerDuplexStream<WatchRequest, WatchResponse>): boolean => requestOptions(call.metadata).requireLeader === true
  return watchService({
    hub: node.kv.hub,
    header: (revision) => etcdHeader(node, revision),
    progressIntervalMs: node.config.watchProgressNotifyIntervalMs,
    maxRequestBytes: node.config.maxRequestBytes,
    checkStream: (call) => {
      checkAccepting(ctx)
      if (requireLeader(call) && node.leaderId === 0) throw noLeader(node)
    },
    monitorStream: {
      intervalMs: node.electionTimeoutMs,
      check: (call) => {
        if (requireLeader(call) && (node.leaderlessForMs ?? 0) >= NO_LEADER_TIMEOUTS * node.electionTimeoutMs) throw noLeader(node)
      },
    },
  })
}

/** A watch of one stream. */
interface StreamWatch {
  readonly watcher: Watcher
  readonly progressNotify: boolean
  readonly fragment: boolean
  /** No events were sent since the last progress tick. */
  idle: boolean
}

/** A WatchResponse with every field at its default unless given. */
function response(r: Partial<WatchResponse> & {header: ResponseHeader, watchId: bigint}): WatchResponse {
  return {created: false, canceled: false, compactRevision: 0, cancelReason: '', fragment: false, events: [], ...r}
}

class WatchStream {
  private readonly watches = new Map<bigint, StreamWatch>()
  /** Watches with queued items, in the order they are served. */
  private readonly ready = new Set<bigint>()
  private nextId = 0n
  private blocked = false
  private pumpScheduled = false
  private closed = false
  private timer: NodeJS.Timeout | undefined
  private monitor: NodeJS.Timeout | undefined
  private readonly hub: WatchHub

  constructor(private readonly opts: WatchServiceOptions, private readonly call: ServerDuplexStream<WatchRequest, WatchResponse>) {
    this.hub = opts.hub
  }

  open(): void {
    try {
      this.opts.checkStream?.(this.call)
      if (this.hub.closed) throw unavailable(SERVER_STOPPED)
    } catch (err) {
      this.closed = true
      this.call.emit('error', toServiceError(err))
      return
    }
    this.call.on('data', (req: WatchRequest) => this.handle(req))
    this.call.on('cancelled', () => this.close())
    this.call.on('error', () => this.close())
    this.call.on('close', () => this.close())
    const interval = this.opts.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS
    this.timer = setInterval(() => this.progressTick(), interval + Math.floor(Math.random() * interval / 10))
    this.timer.unref()
    const m = this.opts.monitorStream
    if (m !== undefined) {
      this.monitor = setInterval(() => {
        try {
          m.check(this.call)
        } catch (err) {
          this.fail(err)
        }
      }, m.intervalMs)
      this.monitor.unref()
    }
  }

  private handle(req: WatchRequest): void {
    if (this.closed) return
    try {
      requestOf({request: req})
    } catch (err) {
      return this.fail(err)
    }
    if (req.createRequest !== undefined) this.create(req.createRequest)
    else if (req.cancelRequest !== undefined) this.cancel(req.cancelRequest.watchId)
    else if (req.progressRequest !== undefined) this.write(response({header: this.opts.header(this.hub.revision), watchId: NO_WATCH_ID}))
  }

  private create(c: WatchCreateRequest): void {
    const range = watchKeyRange(c.key.length === 0 ? new Uint8Array([0]) : c.key, c.rangeEnd)
    if (range === undefined) return this.refuse(REASON_EMPTY_RANGE)
    if (c.watchId !== 0n && this.watches.has(c.watchId)) return this.refuse(REASON_DUPLICATE_ID)
    if (this.hub.closed) return this.fail(unavailable(SERVER_STOPPED))
    const revision = this.hub.revision
    let watcher: Watcher
    try {
      watcher = this.hub.watch({
        range, startRevision: c.startRevision, prevKv: c.prevKv,
        noPut: c.filters.includes(WatchCreateRequest_FilterType.NOPUT), noDelete: c.filters.includes(WatchCreateRequest_FilterType.NODELETE),
      })
    } catch (err) {
      return this.refuse(err instanceof Error ? err.message : String(err))
    }
    const id = c.watchId !== 0n ? c.watchId : this.autoId()
    this.write(response({header: this.opts.header(revision), watchId: id, created: true}))
    this.watches.set(id, {watcher, progressNotify: c.progressNotify, fragment: c.fragment, idle: true})
    watcher.onReady(() => this.markReady(id))
  }

  /** The lowest id from the stream's counter not in use (etcd's AutoWatchID rule). */
  private autoId(): bigint {
    while (this.watches.has(this.nextId)) this.nextId++
    return this.nextId++
  }

  /** Answers a create that made no watch: created and canceled at once, watch_id -1. */
  private refuse(reason: string): void {
    this.write(response({header: this.opts.header(this.hub.revision), watchId: NO_WATCH_ID, created: true, canceled: true, cancelReason: reason}))
  }

  private cancel(id: bigint): void {
    const sw = this.watches.get(id)
    if (sw === undefined) return
    sw.watcher.cancel()
    this.watches.delete(id)
    this.ready.delete(id)
    this.write(response({header: this.opts.header(this.hub.revision), watchId: id, canceled: true}))
  }

  private progressTick(): void {
    for (const sw of this.watches.values()) {
      if (!sw.progressNotify) continue
      if (sw.idle) this.hub.requestProgress(sw.watcher)
      sw.idle = true
    }
  }

  private markReady(id: bigint): void {
    this.ready.add(id)
    if (this.pumpScheduled || this.blocked || this.closed) return
    // Not now: the hub calls this from the store's apply, which must not wait for the network.
    this.pumpScheduled = true
    setImmediate(() => {
      this.pumpScheduled = false
      this.pump()
    })
  }

  /** Sends queued items, one per watch in turn, while gRPC takes more. */
  private pump(): void {
    while (!this.blocked && !this.closed && this.ready.size > 0) {
      const id: bigint = this.ready.values().next().value!
      this.ready.delete(id)
      const sw = this.watches.get(id)
      const item = sw?.watcher.take()
      if (sw === undefined || item === undefined) continue
      this.send(id, sw, item)
      if (sw.watcher.pendingItems > 0 && this.watches.get(id) === sw) this.ready.add(id)
    }
  }

  private send(id: bigint, sw: StreamWatch, item: WatchItem): void {
    switch (item.kind) {
      case 'events': {
        const res = response({header: this.opts.header(item.revision), watchId: id, events: [...item.events]})
        if (item.events.length > 0) sw.idle = false
        if (!sw.fragment) return this.write(res)
        for (const part of fragments(res, (this.opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES) + GRPC_OVERHEAD_BYTES)) this.write(part)
        return
      }
      case 'compacted':
        return this.write(response({header: this.opts.header(0), watchId: id, canceled: true, compactRevision: item.compactRevision}))
      case 'failed':
        return this.write(response({header: this.opts.header(this.hub.revision), watchId: id, canceled: true, cancelReason: item.reason}))
      case 'closed':
        return this.fail(unavailable(SERVER_STOPPED))
    }
  }

  /** Writes one answer; when gRPC's buffer is full, stops reading and sending until it drains. */
  private write(res: WatchResponse): void {
    if (this.closed || this.call.write(res)) return
    if (this.blocked) return
    this.blocked = true
    this.call.pause()
    this.call.once('drain', () => {
      this.blocked = false
      if (this.closed) return
      this.call.resume()
      this.pump()
    })
  }

  /** Ends the stream with an error status. */
  private fail(err: unknown): void {
    if (this.closed) return
    this.close()
    this.call.emit('error', toServiceError(err))
  }

  /** Cancels every watch of the stream (it ended, or failed). */
  private close(): void {
    if (this.closed) return
    this.closed = true
    clearInterval(this.timer)
    clearInterval(this.monitor)
    for (const sw of this.watches.values()) sw.watcher.cancel()
    this.watches.clear()
    this.ready.clear()
  }
}

/** Bytes of an event inside a WatchResponse: its tag (field 11), length and message. */
function eventFieldBytes(e: Event): number {
  const n = Event.encode(e).finish().length
  return 1 + varintBytes(n) + n
}

function varintBytes(n: number): number {
  let bytes = 1
  while (n >= 0x80) {
    n = Math.floor(n / 0x80)
    bytes++
  }
  return bytes
}

/**
 * Splits `res` as etcd's sendFragments does: unchanged when it is smaller than `max` bytes or
 * has fewer than two events; otherwise responses that each take events while they stay below
 * `max` (at least one event each), all but the last marked `fragment`.
 */
export function* fragments(res: WatchResponse, max: number): Generator<WatchResponse> {
  const sizes = res.events.map(eventFieldBytes)
  const base = WatchResponse.encode({...res, events: [], fragment: true}).finish().length
  const whole = WatchResponse.encode({...res, events: []}).finish().length + sizes.reduce((a, x) => a + x, 0)
  if (whole < max || res.events.length < 2) {
    yield res
    return
  }
  let idx = 0
  while (idx < res.events.length) {
    const events: Event[] = []
    let size = base
    while (idx < res.events.length && (events.length === 0 || size + sizes[idx] < max)) {
      events.push(res.events[idx])
      size += sizes[idx++]
    }
    yield {...res, events, fragment: idx < res.events.length}
  }
}
