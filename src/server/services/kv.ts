/**
 * What is left of the legacy raftctl.v1 KV service: its Watch stream, which the CLI's `kv watch`
 * reads until it moves to etcd's Watch service. Reads and writes are etcd's KV service
 * (etcd/kv.ts), the one implementation of each.
 *
 * Watch streams events of applied entries from this node: the first response has no events and
 * its header's revision is the revision the watch starts after (start_revision - 1), so a client
 * whose stream breaks can resume at the last revision it saw + 1 on any member.
 */
import type {ServerWritableStream} from '@grpc/grpc-js'
import type {KVServer, WatchRequest, WatchResponse} from '../../generated/raftctl/v1/kv.js'
import {KvError, type Watcher} from '../../kv/index.js'
import {toServiceError} from '../errors.js'
import {checkAccepting, header, requestOf, type ServiceContext} from './common.js'
import {eventFromEtcd} from './kv_convert.js'

export function kvService(ctx: ServiceContext): KVServer {
  return {watch: (call) => void watch(ctx, call)}
}

function cancelResponse(ctx: ServiceContext, err: KvError): WatchResponse {
  return {header: header(ctx.node), events: [], compactRevision: err.compactRevision, canceled: true, cancelReason: err.message}
}

async function watch(ctx: ServiceContext, call: ServerWritableStream<WatchRequest, WatchResponse>): Promise<void> {
  let w: Watcher
  try {
    checkAccepting(ctx)
    w = ctx.node.kv.watch(requestOf(call))
  } catch (err) {
    if (err instanceof KvError && err.code === 'COMPACTED') {
      call.write(cancelResponse(ctx, err))
      call.end()
    } else {
      call.emit('error', toServiceError(err))
    }
    return
  }
  call.on('cancelled', () => w.cancel())
  call.on('error', () => w.cancel())
  try {
    await write(call, {header: header(ctx.node, w.startRevision - 1), events: [], compactRevision: 0, canceled: false, cancelReason: ''})
    for await (const batch of w) {
      await write(call, {header: header(ctx.node, batch.revision), events: batch.events.map(eventFromEtcd), compactRevision: 0, canceled: false, cancelReason: ''})
    }
  } catch (err) {
    if (err instanceof KvError) await write(call, cancelResponse(ctx, err)).catch(() => {})
  } finally {
    w.cancel()
    if (!call.cancelled) call.end()
  }
}

/** Writes one response, waiting for the stream to drain when its buffer is full. */
function write(call: ServerWritableStream<WatchRequest, WatchResponse>, res: WatchResponse): Promise<void> {
  if (call.cancelled) return Promise.reject(new Error('the watch was cancelled'))
  if (call.write(res)) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const settle = (ok: boolean) => (): void => {
      call.off('drain', onDrain)
      call.off('cancelled', onCancel)
      if (ok) resolve()
      else reject(new Error('the watch was cancelled'))
    }
    const onDrain = settle(true)
    const onCancel = settle(false)
    call.once('drain', onDrain)
    call.once('cancelled', onCancel)
  })
}
