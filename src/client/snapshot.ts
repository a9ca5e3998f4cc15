/**
 * Downloading a member's snapshot file through etcd's Maintenance.Snapshot. The first response
 * carries the header and, in `remaining_bytes`, how much follows, so the file's size is known from
 * the start; `chunks` then yields the file's bytes in order and, at the end, checks that exactly
 * that many bytes arrived. A short or long transfer throws a DATA_LOSS ClientError instead of
 * ending normally, so a caller that writes the file and renames it only after the loop never
 * keeps a truncated file. The content itself is checked by the file's own SHA-256
 * (kv verifySnapshot), which `raftctl snapshot save` runs before it renames the file.
 */
import {status} from '@grpc/grpc-js'
import type {ResponseHeader} from '../generated/etcd/etcdserverpb/header.js'
import type {MaintenanceClient, SnapshotResponse} from '../generated/etcd/etcdserverpb/maintenance.js'
import {ClientError, toClientError} from './rpc.js'

export interface SnapshotDownload {
  readonly endpoint: string
  readonly header: ResponseHeader | undefined
  /** The file's size in bytes. */
  readonly totalSize: number
  /** The file's bytes; throws DATA_LOSS when the transfer is incomplete. */
  readonly chunks: AsyncGenerator<Uint8Array>
  /** Stops the download. */
  cancel(): void
}

export async function downloadSnapshot(client: MaintenanceClient, endpoint: string, timeoutMs: number): Promise<SnapshotDownload> {
  const call = client.snapshot({}, {deadline: new Date(Date.now() + timeoutMs)})
  const it = (call as AsyncIterable<SnapshotResponse>)[Symbol.asyncIterator]()
  let first: SnapshotResponse
  try {
    const r = await it.next()
    if (r.done === true) throw new ClientError(status.DATA_LOSS, `the snapshot stream from ${endpoint} ended before its first piece`, endpoint)
    first = r.value
  } catch (err) {
    throw toClientError(err, 'snapshot download', endpoint)
  }
  const total = first.blob.length + first.remainingBytes
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let received = 0
    let msg: SnapshotResponse | undefined = first
    try {
      while (msg !== undefined) {
        received += msg.blob.length
        if (msg.blob.length > 0) yield msg.blob
        if (received > total) throw new ClientError(status.DATA_LOSS, `the snapshot stream from ${endpoint} sent more than the ${total} bytes it announced`, endpoint)
        if (msg.remainingBytes === 0) {
          if (received !== total) throw new ClientError(status.DATA_LOSS, `the snapshot from ${endpoint} has ${received} bytes, not ${total}`, endpoint)
          return
        }
        const r = await it.next()
        msg = r.done === true ? undefined : r.value
      }
      throw new ClientError(status.DATA_LOSS, `the snapshot stream from ${endpoint} ended after ${received} of ${total} bytes`, endpoint)
    } catch (err) {
      throw err instanceof ClientError ? err : toClientError(err, 'snapshot download', endpoint)
    } finally {
      call.cancel()
    }
  }
  return {endpoint, header: first.header, totalSize: total, chunks: chunks(), cancel: () => call.cancel()}
}
