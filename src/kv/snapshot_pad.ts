/**
 * A snapshot file as etcd's Maintenance.Snapshot streams it. etcdctl `snapshot save` refuses a
 * download whose size is not 32 more than a multiple of 512 (etcd streams a bbolt file of
 * 512-byte pages followed by its SHA-256). raftctl's snapshot file ends with a SHA-256 too, so it
 * only needs the right size: this module re-emits a snapshot file with zero bytes in its
 * header's `padding` field, chosen so that the size fits, and the SHA-256 of the new bytes at the
 * end. The result is a valid snapshot file with the same content, which `raftctl snapshot
 * inspect` and `restore` read; the original's SHA-256 is checked on the way, so a file damaged on
 * disk makes the stream fail instead of being blessed with a fresh checksum.
 */
import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {open} from 'node:fs/promises'
import {SnapshotFileHeader} from '../generated/raftctl/v1/internal.js'
import {decodeWith} from '../raftpb/checked.js'
import {SnapshotFileError} from './errors.js'
import {CHECKSUM_BYTES, MAX_HEADER_BYTES, SNAPSHOT_MAGIC, u32} from './snapshot_format.js'

/** etcd's page size, and the size of the SHA-256 etcd appends. */
const PAGE = 512
const PREFIX_BYTES = SNAPSHOT_MAGIC.length + 8

/** Bytes a `padding` field of `p` zero bytes adds to the header (tag, varint length, bytes). */
const fieldBytes = (p: number): number => 1 + (p < 128 ? 1 : p < 16384 ? 2 : 3) + p

/** The padding length whose field adds `need` bytes, or `need + 512` when `need` cannot be hit. */
export function paddingFor(need: number): number {
  if (need === 0) return -1
  for (const target of [need, need + PAGE]) {
    for (let p = Math.max(0, target - 4); p <= target; p++) if (fieldBytes(p) === target) return p
  }
  throw new Error(`internal error: no padding adds ${need} bytes`)
}

/** A re-emitted snapshot file: its size, and its bytes in chunks; see the module comment. */
export interface EtcdSizedSnapshot {
  readonly size: number
  readonly chunks: AsyncIterable<Uint8Array>
}

/** Re-emits the snapshot file at `path` (of `size` bytes) with the size etcdctl accepts. */
export async function etcdSizedSnapshot(path: string, size: number): Promise<EtcdSizedSnapshot> {
  const prefix = await readPrefix(path)
  const h = prefix.readUInt32BE(PREFIX_BYTES - 4)
  const bodyBytes = size - PREFIX_BYTES - h - CHECKSUM_BYTES
  if (h > MAX_HEADER_BYTES || bodyBytes < 4) throw new SnapshotFileError(`snapshot file ${path} is too short for its header of ${h} bytes`)
  const fh = await open(path, 'r')
  const raw = Buffer.alloc(h)
  try {
    await fh.read(raw, 0, h, PREFIX_BYTES)
  } finally {
    await fh.close()
  }
  const wire = decodeWith('raftctl.v1.SnapshotFileHeader', () => SnapshotFileHeader.decode(raw))
  const plain = SnapshotFileHeader.encode({...wire, padding: new Uint8Array(0)}).finish()
  const p = paddingFor((PAGE - ((PREFIX_BYTES + plain.length + bodyBytes) % PAGE)) % PAGE)
  const header = p < 0 ? plain : SnapshotFileHeader.encode({...wire, padding: new Uint8Array(p)}).finish()
  const total = PREFIX_BYTES + header.length + bodyBytes + CHECKSUM_BYTES
  if (total % PAGE !== CHECKSUM_BYTES) throw new Error(`internal error: a padded snapshot of ${total} bytes does not fit etcd's size rule`)
  return {size: total, chunks: reemit(path, size, prefix, raw, header, bodyBytes)}
}

async function readPrefix(path: string): Promise<Buffer> {
  const fh = await open(path, 'r')
  try {
    const b = Buffer.alloc(PREFIX_BYTES)
    const {bytesRead} = await fh.read(b, 0, PREFIX_BYTES, 0)
    if (bytesRead < PREFIX_BYTES || !b.subarray(0, SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC)) {
      throw new SnapshotFileError(`snapshot file ${path} is not a raftctl snapshot (bad magic)`)
    }
    return b
  } finally {
    await fh.close()
  }
}

async function* reemit(path: string, size: number, prefix: Buffer, oldHeader: Buffer, header: Uint8Array, bodyBytes: number): AsyncGenerator<Uint8Array> {
  const original = createHash('sha256').update(prefix).update(oldHeader)
  const fresh = createHash('sha256')
  const head = Buffer.concat([prefix.subarray(0, PREFIX_BYTES - 4), u32(header.length), header])
  fresh.update(head)
  yield head
  const bodyStart = PREFIX_BYTES + oldHeader.length
  for await (const chunk of createReadStream(path, {start: bodyStart, end: bodyStart + bodyBytes - 1, highWaterMark: 1 << 20}) as AsyncIterable<Buffer>) {
    original.update(chunk)
    fresh.update(chunk)
    yield chunk
  }
  const stored = Buffer.alloc(CHECKSUM_BYTES)
  const fh = await open(path, 'r')
  try {
    await fh.read(stored, 0, CHECKSUM_BYTES, size - CHECKSUM_BYTES)
  } finally {
    await fh.close()
  }
  if (!original.digest().equals(stored)) throw new SnapshotFileError(`snapshot file ${path}: checksum mismatch; it was damaged on disk`)
  yield fresh.digest()
}
