/**
 * A download of this node's snapshot file (Maintenance.Snapshot): first a snapshot file that
 * covers the applied index is made sure of (one is built when entries were applied since the
 * last), then the file, re-emitted in the size etcdctl accepts (kv/snapshot_pad.ts), is read in
 * chunks of at most CHUNK_BYTES, each with the bytes still to come. The stream writer waits for
 * gRPC to drain, so a slow client holds at most one chunk in memory.
 */
import {stat} from 'node:fs/promises'
import type {ServerWritableStream} from '@grpc/grpc-js'
import {etcdSizedSnapshot, type SnapshotInfo} from '../kv/index.js'
import type {RaftNode} from './node.js'

/** The largest chunk of a snapshot download. */
export const CHUNK_BYTES = 1 << 20

/** One chunk of the file, with what the stream message around it needs. */
export interface SnapshotChunk {
  readonly info: SnapshotInfo
  readonly size: number
  readonly blob: Buffer
  readonly first: boolean
  readonly remaining: number
}

/**
 * The chunks of a snapshot file covering the applied index, re-emitted in the size etcdctl
 * snapshot save accepts; `size` is the re-emitted size. See the module comment.
 */
export async function* snapshotChunks(node: RaftNode): AsyncGenerator<SnapshotChunk> {
  const info = await node.snapshotter.create('snapshot download')
  const {size: fileSize} = await stat(info.path)
  const source = await etcdSizedSnapshot(info.path, fileSize)
  const size = source.size
  node.log.info({event: 'snapshot-download', index: info.metadata.index, bytes: size}, 'streaming a snapshot to a client')
  let sent = 0
  for await (const piece of source.chunks) {
    for (let at = 0; at < piece.length; at += CHUNK_BYTES) {
      const blob = Buffer.from(piece.buffer, piece.byteOffset + at, Math.min(CHUNK_BYTES, piece.length - at))
      sent += blob.length
      yield {info, size, blob, first: sent === blob.length, remaining: size - sent}
    }
  }
  if (sent !== size) throw new Error(`the snapshot file ${info.path} changed while it was streamed`)
}

/**
 * Writes one message, waiting for the stream to drain when its buffer is full; resolves false
 * when the client went away.
 */
export function writeDrained<T>(call: ServerWritableStream<unknown, T>, message: T): Promise<boolean> {
  if (call.cancelled) return Promise.resolve(false)
  if (call.write(message)) return Promise.resolve(true)
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done)
      call.off('cancelled', done)
      resolve(!call.cancelled)
    }
    call.once('drain', done)
    call.once('cancelled', done)
  })
}
