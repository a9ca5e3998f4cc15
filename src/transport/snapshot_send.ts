/**
 * The sending half of a snapshot transfer: one Peer.SendSnapshot call that carries the header and
 * the MsgSnapshot in its first chunk, then the snapshot file in pieces of at most
 * `snapshotChunkBytes`, each with its offset, and a last chunk flagged with the file's CRC-32.
 * Writes wait for the call's buffer to drain, so the file is read only as fast as the receiver
 * takes it; the call's deadline bounds the whole transfer.
 */
import {crc32} from 'node:zlib'
import type {ClientWritableStream, ServiceError} from '@grpc/grpc-js'
import type {PeerHeader, SnapshotAck, SnapshotChunk} from '../generated/raftctl/v1/peer.js'
import {messageToWire} from '../raftpb/convert.js'
import {EMPTY_BYTES, type Message} from '../raft/types.js'
import type {RawPeerClient} from './wire.js'

export interface SnapshotSendRequest {
  readonly client: RawPeerClient
  readonly header: PeerHeader
  readonly message: Message
  readonly chunks: AsyncIterable<Uint8Array>
  readonly chunkBytes: number
  readonly deadline: Date
  /** Called with the active call (and null when done) so the owner can cancel it on close. */
  readonly onCall: (call: ClientWritableStream<SnapshotChunk> | null) => void
}

export interface SnapshotSendResult {
  /** File bytes written (all of them unless the receiver answered early). */
  readonly bytes: number
  readonly ack: SnapshotAck
}

/** The call of one transfer and its outcome, settled by the gRPC callback. */
class SnapshotCall {
  settled = false
  error: ServiceError | null = null
  readonly ack: Promise<SnapshotAck>
  readonly call: ClientWritableStream<SnapshotChunk>

  constructor(client: RawPeerClient, deadline: Date) {
    let resolve!: (ack: SnapshotAck) => void
    let reject!: (err: ServiceError) => void
    this.ack = new Promise<SnapshotAck>((res, rej) => {
      resolve = res
      reject = rej
    })
    this.ack.catch(() => {}) // observed by send(); no unhandled rejection while writing
    this.call = client.sendSnapshot({deadline}, (err, ack) => {
      this.settled = true
      this.error = err
      if (err !== null) reject(err)
      else resolve(ack!)
    })
    this.call.on('error', () => {}) // failures arrive through the callback above
  }

  /**
   * Writes one chunk, waiting for 'drain' when the buffer is full. Returns false once the call
   * has ended (the receiver answered), so the sender stops; rejects if it ended with an error.
   */
  async write(chunk: SnapshotChunk): Promise<boolean> {
    if (this.settled) {
      await this.ack
      return false
    }
    if (this.call.write(chunk)) return true
    let onDrain!: () => void
    const drained = new Promise<void>((resolve) => {
      onDrain = resolve
      this.call.once('drain', onDrain)
    })
    try {
      await Promise.race([drained, this.ack])
    } finally {
      this.call.removeListener('drain', onDrain)
    }
    return true
  }
}

/** Streams one snapshot; resolves with the receiver's ack, rejects with the call's error. */
export async function streamSnapshot(req: SnapshotSendRequest): Promise<SnapshotSendResult> {
  const sc = new SnapshotCall(req.client, req.deadline)
  req.onCall(sc.call)
  try {
    const first: SnapshotChunk = {
      header: req.header, message: messageToWire(req.message), offset: 0, data: EMPTY_BYTES, last: false, crc32: 0,
    }
    const bytes = await sc.write(first) ? await writeFile(sc, req) : 0
    return {bytes, ack: await sc.ack}
  } catch (err) {
    if (!sc.settled) sc.call.cancel()
    throw sc.error ?? err
  } finally {
    req.onCall(null)
  }
}

/** Writes the file's pieces and the last chunk, then half-closes; returns the bytes written. */
async function writeFile(sc: SnapshotCall, req: SnapshotSendRequest): Promise<number> {
  let offset = 0
  let crc = 0
  for await (const piece of rechunk(req.chunks, req.chunkBytes)) {
    if (!await sc.write({header: undefined, message: undefined, offset, data: piece, last: false, crc32: 0})) {
      return offset
    }
    offset += piece.length
    crc = crc32(piece, crc)
  }
  const last: SnapshotChunk = {header: undefined, message: undefined, offset, data: EMPTY_BYTES, last: true, crc32: crc}
  if (await sc.write(last)) sc.call.end()
  return offset
}

/**
 * Re-cuts the caller's chunks into pieces of exactly `size` bytes (the last may be shorter):
 * large chunks are split, small ones coalesced. Bytes are copied as soon as they arrive, so the
 * caller may reuse its buffer for the next chunk.
 */
export async function* rechunk(chunks: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let acc = Buffer.allocUnsafe(size)
  let held = 0
  for await (const chunk of chunks) {
    let pos = 0
    while (pos < chunk.length) {
      const take = Math.min(size - held, chunk.length - pos)
      acc.set(chunk.subarray(pos, pos + take), held)
      held += take
      pos += take
      if (held === size) {
        yield acc
        acc = Buffer.allocUnsafe(size)
        held = 0
      }
    }
  }
  if (held > 0) yield acc.subarray(0, held)
}
