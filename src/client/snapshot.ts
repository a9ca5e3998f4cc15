/**
 * Downloading a member's snapshot file (Maintenance.Snapshot). The first response says what the
 * snapshot covers and how large the file is; `chunks` then yields the file's bytes in order and,
 * at the end, checks that every byte arrived and that the CRC-32 matches the server's. A short,
 * long or altered transfer throws a DATA_LOSS ClientError instead of ending normally, so a
 * caller that writes the file and renames it only after the loop never keeps a bad file.
 */
import {crc32} from 'node:zlib'
import {status} from '@grpc/grpc-js'
import type {SnapshotMetadata} from '../generated/eraftpb.js'
import type {ResponseHeader} from '../generated/raftctl/v1/kv.js'
import type {MaintenanceClient, SnapshotResponse} from '../generated/raftctl/v1/maintenance.js'
import {ClientError, toClientError} from './rpc.js'

export interface SnapshotDownload {
  readonly endpoint: string
  readonly header: ResponseHeader | undefined
  /** Index, term and ConfState the snapshot covers (wire form). */
  readonly metadata: SnapshotMetadata
  readonly totalSize: number
  /** The file's bytes; throws DATA_LOSS when the transfer is incomplete or corrupt. */
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
  if (first.metadata === undefined) {
    call.cancel()
    throw new ClientError(status.DATA_LOSS, `the snapshot stream from ${endpoint} does not say what it covers`, endpoint)
  }
  const total = first.totalSize
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let received = 0
    let crc = 0
    let msg: SnapshotResponse | undefined = first
    try {
      while (msg !== undefined) {
        received += msg.blob.length
        crc = crc32(msg.blob, crc)
        if (msg.blob.length > 0) yield msg.blob
        if (msg.remainingBytes === 0) {
          if (received !== total) throw new ClientError(status.DATA_LOSS, `the snapshot from ${endpoint} has ${received} bytes, not ${total}`, endpoint)
          if (msg.crc32 !== crc) throw new ClientError(status.DATA_LOSS, `the snapshot from ${endpoint} fails its CRC-32 check`, endpoint)
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
  return {endpoint, header: first.header, metadata: first.metadata, totalSize: total, chunks: chunks(), cancel: () => call.cancel()}
}
