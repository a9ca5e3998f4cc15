/**
 * The snapshot file format (docs/storage-layout.md, "Snapshot file"), used for Raft snapshots
 * sent to followers, for backups and by `raftctl snapshot inspect`:
 *
 *   offset 0   magic "RAFTCTL-SNAP" (12 ASCII bytes)
 *   12         format version, u32 big-endian (currently 3; version 1 held no history,
 *              version 2 no leases)
 *   16         header length H, u32 big-endian
 *   20         H bytes: raftctl.v1.SnapshotFileHeader (SnapshotMetadata, members, key count,
 *              revision, compact revision, cluster id, lease count)
 *   then       the retained history records in ascending revision order, each: length L (u32
 *              big-endian, >= 17) + L bytes: main (u64 BE) | sub (u64 BE) | the R/ value
 *              (kind byte + mvccpb.KeyValue, see codec.ts encodeRecord)
 *   then       u32 0 (end of records)
 *   then       the lease section: items, each length L (u32 big-endian, >= 1) + L bytes of
 *              raftctl.v1.LeaseSnapshotItem (a lease, then the keys attached to it; written and
 *              checked by src/lease through the lease hooks)
 *   then       u32 0 (end of lease items)
 *   then       32 bytes: SHA-256 of every byte before it
 *
 * The writer streams: it never holds more than one chunk (~64 KiB) plus one record in memory.
 */
import {createHash} from 'node:crypto'
import {SnapshotFileHeader} from '../generated/raftctl/v1/internal.js'
import type {SnapshotMetadata} from '../raft/types.js'
import {snapshotMetadataToWire} from '../raftpb/convert.js'
import {memberToWire, type MemberInfo} from '../storage/records.js'

export const SNAPSHOT_MAGIC = new TextEncoder().encode('RAFTCTL-SNAP')
export const SNAPSHOT_FORMAT_VERSION = 3
export const CHECKSUM_BYTES = 32
/** Upper bound of the header and of one record, so a corrupt length cannot ask for gigabytes. */
export const MAX_HEADER_BYTES = 64 << 20
export const MAX_RECORD_BYTES = 256 << 20
/** Size of the chunks the writer yields. */
export const CHUNK_BYTES = 64 << 10
/** Bytes of a record before its R/ value: main and sub revision. */
export const RECORD_REVISION_BYTES = 16

/** What a snapshot file says about itself. */
export interface SnapshotHeaderInfo {
  readonly formatVersion: number
  readonly metadata: SnapshotMetadata
  readonly members: readonly MemberInfo[]
  /** Live keys at `revision`. */
  readonly keyCount: number
  /** The store revision. */
  readonly revision: number
  /** Reads below it fail as compacted; the file holds no record the compaction dropped. */
  readonly compactRevision: number
  readonly clusterId: number
  /** The number of leases (items of the lease section that are a lease, not an attached key). */
  readonly leaseCount: number
}

/** One history record as the file carries it: the R/ key's 16 revision bytes and the R/ value. */
export interface SnapshotRecord {
  /** main (u64 BE) | sub (u64 BE): the R/ key without its prefix. */
  readonly revision: Uint8Array
  readonly value: Uint8Array
}

export function u32(n: number): Uint8Array {
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

/** The header a writer gives: a file without leases may leave out the lease count. */
export type SnapshotHeaderInput = Omit<SnapshotHeaderInfo, 'formatVersion' | 'leaseCount'> & {readonly leaseCount?: number}

/** The header bytes of a snapshot file. */
export function encodeHeader(header: SnapshotHeaderInput): Uint8Array {
  return SnapshotFileHeader.encode({
    metadata: snapshotMetadataToWire(header.metadata),
    members: {members: [...header.members].sort((x, y) => x.id - y.id).map(memberToWire)},
    keyCount: header.keyCount, revision: header.revision, clusterId: header.clusterId,
    compactRevision: header.compactRevision, leaseCount: header.leaseCount ?? 0, padding: new Uint8Array(0),
  }).finish()
}

/** What encodeSnapshotFile wrote. */
export interface SnapshotWritten {
  readonly size: number
  readonly checksum: string
  readonly records: number
}

/**
 * Streams a snapshot file: header, then every record of `records` (which must be in ascending
 * revision order), the end mark, every item of `leaseItems` (encoded LeaseSnapshotItems, in the
 * lease section's order, holding header.leaseCount leases; none by default), the end mark, then
 * the checksum. Returns the size, checksum and record count.
 */
export async function* encodeSnapshotFile(
  header: SnapshotHeaderInput, records: AsyncIterable<SnapshotRecord>, leaseItems: AsyncIterable<Uint8Array> | Iterable<Uint8Array> = [],
): AsyncGenerator<Uint8Array, SnapshotWritten> {
  const b = new ChunkBuilder()
  const headerBytes = encodeHeader(header)
  for (const part of [SNAPSHOT_MAGIC, u32(SNAPSHOT_FORMAT_VERSION), u32(headerBytes.length), headerBytes]) {
    const c = b.add(part)
    if (c) yield c
  }
  let count = 0
  for await (const rec of records) {
    count += 1
    for (const part of [u32(RECORD_REVISION_BYTES + rec.value.length), rec.revision, rec.value]) {
      const c = b.add(part)
      if (c) yield c
    }
  }
  const end = b.add(u32(0))
  if (end) yield end
  for await (const item of leaseItems) {
    for (const part of [u32(item.length), item]) {
      const c = b.add(part)
      if (c) yield c
    }
  }
  const leaseEnd = b.add(u32(0))
  if (leaseEnd) yield leaseEnd
  const digest = b.hash.digest()
  const last = b.flush()
  if (last) yield last
  yield new Uint8Array(digest)
  return {size: b.total + CHECKSUM_BYTES, checksum: digest.toString('hex'), records: count}
}
