/**
 * Waiting on keys through Watch, as etcd's recipes do:
 *
 * - WatchSubscription reads one watch, response by response; it fails when the server cancels
 *   it (a compacted start revision: etcd's compaction text) and resumes it when the connection
 *   is lost.
 * - waitDelete(key, rev) returns once `key` is deleted at or after revision `rev`; since the watch
 *   starts at `rev` (the revision the caller read the key at), a deletion between that read and the
 *   watch is seen too.
 * - waitDeletes(prefix, maxCreateRev) waits until no key under `prefix` with a create revision
 *   <= maxCreateRev remains, waiting each time only on the youngest of them (the direct
 *   predecessor), so one deletion wakes one waiter: no thundering herd. Returns the header of the
 *   read that found none.
 */
import {type ClientDuplexStream, type ServiceError, status} from '@grpc/grpc-js'
import type {ResponseHeader} from '../../generated/etcd/etcdserverpb/header.js'
import type {WatchCreateRequest, WatchRequest, WatchResponse} from '../../generated/etcd/etcdserverpb/watch.js'
import {Event_EventType} from '../../generated/etcd/mvccpb/kv.js'
import {prefixEnd} from '../keys.js'
import {abortReason, type EtcdClient, headerOf, oldestUnder, RETRY_MS} from './etcd.js'
import {COMPACTED_MESSAGE, LOST_WATCHER_MESSAGE, WatchLostError} from './errors.js'

const EMPTY = new Uint8Array(0)

/** A watch on one key (or a prefix) from `startRevision`. */
export function watchCreate(key: Uint8Array, startRevision: number, prefix = false): WatchCreateRequest {
  return {
    key, rangeEnd: prefix ? prefixEnd(key) : EMPTY, startRevision, progressNotify: false, filters: [], prevKv: false,
    watchId: 0n, fragment: false,
  }
}

/**
 * One watch on its own stream. next() yields each response carrying events (the `created`
 * answer is skipped); it rejects when the server cancels the watch (a compacted start revision:
 * etcd's text), the stream fails with anything but UNAVAILABLE, or `signal` fires. close()
 * cancels the stream; call it when done (finally).
 *
 * A stream that fails with UNAVAILABLE or ends (the server restarted, the connection dropped)
 * is opened again every RETRY_MS from the revision after the last event received, as clientv3's
 * watcher resumes, so no event is lost or repeated; it keeps trying until `signal` fires.
 */
export class WatchSubscription {
  private readonly queue: WatchResponse[] = []
  private failure: Error | undefined
  private wake: (() => void) | undefined
  private stream: ClientDuplexStream<WatchRequest, WatchResponse> | undefined
  private retryTimer: NodeJS.Timeout | undefined
  /** The revision the watch resumes from: the start, then the one after the last event. */
  private nextRev: number
  private readonly onAbort = (): void => this.fail(abortReason(this.signal!))

  constructor(private readonly client: EtcdClient, private readonly create: WatchCreateRequest, private readonly signal?: AbortSignal) {
    this.nextRev = create.startRevision
    if (signal?.aborted === true) this.onAbort()
    signal?.addEventListener('abort', this.onAbort, {once: true})
    this.open()
  }

  /** The next response with events. */
  async next(): Promise<WatchResponse> {
    for (;;) {
      const res = this.queue.shift()
      if (res !== undefined) return res
      if (this.failure !== undefined) throw this.failure
      await new Promise<void>((resolve) => { this.wake = resolve })
    }
  }

  close(): void {
    this.signal?.removeEventListener('abort', this.onAbort)
    this.fail(new WatchLostError('the watch was closed'))
  }

  private open(): void {
    if (this.failure !== undefined) return
    const stream = this.client.watchStream()
    this.stream = stream
    stream.on('data', (res: WatchResponse) => this.receive(res))
    stream.on('error', (err: ServiceError) => this.broken(stream, err.code === status.UNAVAILABLE ? undefined : err))
    stream.on('end', () => this.broken(stream, undefined))
    stream.write({createRequest: {...this.create, startRevision: this.nextRev}})
  }

  /** The stream failed: fatal with `err`, or opened again after RETRY_MS. */
  private broken(stream: ClientDuplexStream<WatchRequest, WatchResponse>, err: Error | undefined): void {
    if (stream !== this.stream || this.failure !== undefined) return
    this.stream = undefined
    if (err !== undefined) this.fail(err)
    else this.retryTimer = setTimeout(() => this.open(), RETRY_MS)
  }

  private receive(res: WatchResponse): void {
    if (res.canceled) {
      this.fail(new WatchLostError(res.compactRevision !== 0 ? COMPACTED_MESSAGE : res.cancelReason || LOST_WATCHER_MESSAGE))
    } else if (res.events.length > 0) {
      this.nextRev = res.events[res.events.length - 1].kv!.modRevision + 1
      this.queue.push(res)
      this.notify()
    }
  }

  /** Ends the subscription with `err` (the first failure wins) and cancels the stream. */
  private fail(err: Error): void {
    this.failure ??= err
    clearTimeout(this.retryTimer)
    const stream = this.stream
    this.stream = undefined
    stream?.cancel()
    this.notify()
  }

  private notify(): void {
    const w = this.wake
    this.wake = undefined
    w?.()
  }
}

/** Waits until `key` is deleted at revision `rev` or later. */
export async function waitDelete(client: EtcdClient, key: Uint8Array, rev: number, signal?: AbortSignal): Promise<void> {
  const sub = new WatchSubscription(client, watchCreate(key, rev), signal)
  try {
    for (;;) {
      const res = await sub.next()
      if (res.events.some((ev) => ev.type === Event_EventType.DELETE)) return
    }
  } finally {
    sub.close()
  }
}

/**
 * Waits until no key under `prefix` created at or below `maxCreateRev` remains, watching only
 * the youngest such key each round. Returns the header of the final read.
 */
export async function waitDeletes(client: EtcdClient, prefix: Uint8Array, maxCreateRev: number, signal?: AbortSignal): Promise<ResponseHeader> {
  for (;;) {
    const res = await client.range(oldestUnder(prefix, 'last', maxCreateRev), signal)
    if (res.kvs.length === 0) return headerOf(res)
    await waitDelete(client, res.kvs[0].key, headerOf(res).revision, signal)
  }
}
