/**
 * The receiving half of a snapshot transfer. The first chunk is checked like a message batch
 * (header, then a MsgSnapshot from the header's sender to this node); the file's bytes are then
 * handed to the application as an async iterable that checks every chunk's offset and, on the
 * last chunk, the CRC-32 of the whole file. The iterable throws if the stream ends early, a chunk
 * is out of place, or the checksum differs, so an application that applies the snapshot only
 * after its loop completes never applies a partial or corrupt file.
 */
import {crc32} from 'node:zlib'
import {status} from '@grpc/grpc-js'
import {SnapshotChunk} from '../generated/raftctl/v1/peer.js'
import {type Message, MessageType} from '../raft/types.js'
import {checkHeader, checkMessage, decodeOrRefuse, type ReceiverIdentity} from './check.js'
import {PeerRefusal} from './errors.js'

/** Progress of one incoming file, filled in while the application reads it. */
export interface SnapshotProgress {
  bytes: number
  complete: boolean
  /** Set when the stream itself was at fault (the application saw this error thrown). */
  error?: PeerRefusal
}

const decodeChunk = (b: Uint8Array): SnapshotChunk =>
  decodeOrRefuse('raftctl.v1.SnapshotChunk', () => SnapshotChunk.decode(b))

/** Reads and checks the first chunk; returns it with its MsgSnapshot. */
export async function readFirstChunk(
  self: ReceiverIdentity, it: AsyncIterator<Uint8Array>,
): Promise<{first: SnapshotChunk, message: Message}> {
  const r = await it.next()
  if (r.done === true) {
    throw new PeerRefusal(status.INVALID_ARGUMENT, 'the snapshot stream ended before its first chunk')
  }
  const first = decodeChunk(r.value)
  const header = checkHeader(self, first.header, 'a snapshot transfer')
  if (first.message === undefined) {
    throw new PeerRefusal(status.INVALID_ARGUMENT, 'the first snapshot chunk carries no MsgSnapshot')
  }
  const message = checkMessage(self, header, first.message, 'the snapshot message')
  if (message.msgType !== MessageType.MsgSnapshot || message.snapshot === undefined) {
    throw new PeerRefusal(status.INVALID_ARGUMENT,
      `the first snapshot chunk carries a ${MessageType[message.msgType]} instead of a MsgSnapshot with metadata`)
  }
  return {first, message}
}

/**
 * Yields the file's bytes, starting with any data in the first chunk. Records progress; on a
 * protocol fault records the refusal in `progress.error` and throws it.
 */
export async function* snapshotData(
  first: SnapshotChunk, it: AsyncIterator<Uint8Array>, progress: SnapshotProgress,
): AsyncGenerator<Uint8Array> {
  let crc = 0
  let chunk = first
  for (let n = 1; ; n++) {
    const data = checkChunk(chunk, n, progress)
    crc = crc32(data, crc)
    progress.bytes += data.length
    if (chunk.last && chunk.crc32 !== crc) {
      fail(progress, `the snapshot file's CRC-32 is ${crc} but the sender computed ${chunk.crc32}`)
    }
    if (data.length > 0) yield data
    if (chunk.last) {
      progress.complete = true
      return
    }
    const r = await it.next()
    if (r.done === true) fail(progress, `the snapshot stream ended after ${progress.bytes} bytes without its last chunk`)
    try {
      chunk = decodeChunk(r.value)
    } catch (err) {
      if (err instanceof PeerRefusal) progress.error = err
      throw err
    }
  }
}

function checkChunk(chunk: SnapshotChunk, n: number, progress: SnapshotProgress): Uint8Array {
  if (n > 1 && (chunk.header !== undefined || chunk.message !== undefined)) {
    fail(progress, `snapshot chunk ${n} repeats the header; only the first chunk may carry it`)
  }
  if (chunk.offset !== progress.bytes) {
    fail(progress, `snapshot chunk ${n} starts at offset ${chunk.offset}, expected ${progress.bytes}`)
  }
  return chunk.data
}

function fail(progress: SnapshotProgress, message: string): never {
  progress.error = new PeerRefusal(status.INVALID_ARGUMENT, message)
  throw progress.error
}
