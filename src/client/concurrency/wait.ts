/**
 * Waiting on keys through Watch, as etcd's recipes do:
 *
 * - WatchSubscription reads one watch, response by response, and fails when the server cancels
 *   it (a compacted start revision: etcd's compaction text) or the stream ends.
 * - waitDelete(key, rev) returns once `key` is deleted at or after revision `rev`; since the watch
 *   starts at `rev` (the revision the caller read the key at), a deletion between that read and the
 *   watch is seen too.
 * - waitDeletes(prefix, maxCreateRev) waits until no key under `prefix` with a create revision
 *   <= maxCreateRev remains, waiting each time only on the youngest of them (the direct
 *   predecessor), so one deletion wakes one waiter: no thundering herd. Returns the header of the
 *   read that found none.
 */
import type {ResponseHeader} from '../../generated/etcd/etcdserverpb/header.js'
import type {WatchCreateRequest, WatchResponse} from '../../generated/etcd/etcdserverpb/watch.js'
import {Event_EventType} from '../../generated/etcd/mvccpb/kv.js'
import {prefixEnd} from '../keys.js'
import {abortReason, type EtcdClient, headerOf, oldestUnder} from './etcd.js'
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
 * answer is skipped); it rejects when the server cancels the watch, the stream fails or ends, or
 * `signal` fires. close() cancels the stream; call it when done (finally).
 */
export class WatchSubscription {
  private readonly queue: WatchResponse[] = []
  private failure: Error | undefined
  private wake: (() => void) | undefined
  private readonly stream
  private readonly onAbort = (): void => this.fail(abortReason(this.signal!))

  constructor(client: EtcdClient, create: WatchCreateRequest, private readonly signal?: AbortSignal) {
    this.stream = client.watchStream()
    this.stream.on('data', (res: WatchResponse) => this.receive(res))
    this.stream.on('error', (err: Error) => this.fail(err))
    this.stream.on('end', () => this.fail(new WatchLostError(LOST_WATCHER_MESSAGE)))
    if (signal?.aborted === true) this.onAbort()
    signal?.addEventListener('abort', this.onAbort, {once: true})
    this.stream.write({createRequest: create})
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
    this.stream.cancel()
  }

  private receive(res: WatchResponse): void {
    if (res.canceled) {
      this.fail(new WatchLostError(res.compactRevision !== 0 ? COMPACTED_MESSAGE : res.cancelReason || LOST_WATCHER_MESSAGE))
    } else if (res.events.length > 0) {
      this.queue.push(res)
      this.notify()
    }
  }

  private fail(err: Error): void {
    this.failure ??= err
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
