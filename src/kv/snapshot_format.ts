/**
 * The snapshot file format (docs/storage-layout.md, "Snapshot file"), used for Raft snapshots
 * sent to followers, for backups and by `raftctl snapshot inspect`:
 *
 *   offset 0   magic "RAFTCTL-SNAP" (12 ASCII bytes)
 *   12         format version, u32 big-endian (currently 1)
 *   16         header length H, u32 big-endian
 *   20         H bytes: raftctl.v1.SnapshotFileHeader (SnapshotMetadata, members, key count,
 *              revision, cluster id)
 *   then       key_count records, each: length L (u32 big-endian) + L bytes raftctl.v1.KeyValue,
 *              in strictly ascending key order
 *   then       32 bytes: SHA-256 of every byte before it
 *
 * The writer streams: it never holds more than one chunk (~64 KiB) plus one record in memory.
 */
import {createHash} from 'node:crypto'
import {KeyValue, SnapshotFileHeader} from '../generated/raftctl/v1/kv.js'
import type {SnapshotMetadata} from '../raft/types.js'
import {snapshotMetadataToWire} from '../raftpb/convert.js'
import {memberToWire, type MemberInfo} from '../storage/records.js'

export const SNAPSHOT_MAGIC = new TextEncoder().encode('RAFTCTL-SNAP')
export const SNAPSHOT_FORMAT_VERSION = 1
export const CHECKSUM_BYTES = 32
/** Upper bound of the header and of one record, so a corrupt length cannot ask for gigabytes. */
export const MAX_HEADER_BYTES = 64 << 20
export const MAX_RECORD_BYTES = 256 << 20
/** Size of the chunks the writer yields. */
export const CHUNK_BYTES = 64 << 10

/** What a snapshot file says about itself. */
export interface SnapshotHeaderInfo {
  readonly formatVersion: number
  readonly metadata: SnapshotMetadata
  readonly members: readonly MemberInfo[]
  readonly keyCount: number
  readonly revision: number
  readonly clusterId: number
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n)
  return b
}

/** Accumulates bytes into chunks of about CHUNK_BYTES and hashes everything written. */
class ChunkBuilder {
  private parts: Uint8Array[] = []
  private size = 0
  readonly hash = createHash('sha256')
  total = 0

  add(b: Uint8Array): Uint8Array | undefined {
    this.hash.update(b)
    this.total += b.length
    this.parts.push(b)
    this.size += b.length
    return this.size >= CHUNK_BYTES ? this.flush() : undefined
  }

  flush(): Uint8Array | undefined {
    if (this.size === 0) return undefined
    const out = Buffer.concat(this.parts, this.size)
    this.parts = []
    this.size = 0
    return out
  }
}

/**
 * The record of user key `key` whose stored value is `stored` (a KeyValue encoded without its
 * key, see encodeStoredKv): the key field written in front of the stored fields. The bytes equal
 * KeyValue.encode of the whole KeyValue, because the encoder writes fields in field-number order
 * (key is field 1) and omits an empty key; so a snapshot is built without decoding and
 * re-encoding every value.
 */
export function recordFromStored(key: Uint8Array, stored: Uint8Array): Uint8Array {
  let lenBytes = 1
  for (let n = key.length; n >= 0x80; n = Math.floor(n / 0x80)) lenBytes++
  const out = Buffer.allocUnsafe(1 + lenBytes + key.length + stored.length)
  out[0] = 0x0a // field 1 (key), wire type 2 (length-delimited)
  let at = 1
  let n = key.length
  while (n >= 0x80) {
    out[at++] = (n % 0x80) | 0x80
    n = Math.floor(n / 0x80)
  }
  out[at++] = n
  out.set(key, at)
  out.set(stored, at + key.length)
  return out
}

/**
 * Streams a snapshot file: header, then every record of `records` (which must be in ascending
 * key order and number exactly header.keyCount), then the checksum. Throws if the record count
 * differs from the header (the file would be rejected by every reader).
 */
export function encodeSnapshotFile(
  header: Omit<SnapshotHeaderInfo, 'formatVersion'>, records: AsyncIterable<KeyValue>,
): AsyncGenerator<Uint8Array, {size: number, checksum: string}> {
  async function* encoded(): AsyncGenerator<Uint8Array> {
    for await (const kv of records) yield KeyValue.encode(kv).finish()
  }
  return encodeSnapshotRecords(header, encoded())
}

/** encodeSnapshotFile for records already encoded as raftctl.v1.KeyValue (recordFromStored). */
export async function* encodeSnapshotRecords(
  header: Omit<SnapshotHeaderInfo, 'formatVersion'>, records: AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array, {size: number, checksum: string}> {
  const b = new ChunkBuilder()
  const headerBytes = SnapshotFileHeader.encode({
    metadata: snapshotMetadataToWire(header.metadata),
    members: {members: [...header.members].sort((x, y) => x.id - y.id).map(memberToWire)},
    keyCount: header.keyCount, revision: header.revision, clusterId: header.clusterId,
  }).finish()
  for (const part of [SNAPSHOT_MAGIC, u32(SNAPSHOT_FORMAT_VERSION), u32(headerBytes.length), headerBytes]) {
    const c = b.add(part)
    if (c) yield c
  }
  let count = 0
  for await (const rec of records) {
    count += 1
    const c1 = b.add(u32(rec.length))
    if (c1) yield c1
    const c2 = b.add(rec)
    if (c2) yield c2
  }
  if (count !== header.keyCount) {
    throw new Error(`snapshot writer: the store holds ${count} keys but its meta says ${header.keyCount}`)
  }
  const digest = b.hash.digest()
  const last = b.flush()
  if (last) yield last
  yield new Uint8Array(digest)
  return {size: b.total + CHECKSUM_BYTES, checksum: digest.toString('hex')}
}
