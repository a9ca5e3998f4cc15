/**
 * Incremental reader of the snapshot file format (snapshot_format.ts). It reads a stream of
 * chunks of any size, yields the header, each history record and then each lease item as soon as
 * it is complete, and verifies the SHA-256 at the end. Lease items are checked here only as far
 * as the file's structure goes (each decodes, and the leases among them match the header's
 * count); their content is checked by the lease hooks that restore them. Records yielded before the end are NOT yet verified: a caller
 * must not commit anything before the generator finished (restore builds one batch and writes it
 * only afterwards). Every failure is a SnapshotFileError naming the file and the byte offset.
 */
import {createHash, type Hash} from 'node:crypto'
import {createReadStream, statSync} from 'node:fs'
import {SnapshotFileHeader} from '../generated/raftctl/v1/internal.js'
import {LeaseSnapshotItem} from '../generated/raftctl/v1/lease_internal.js'
import {decodeWith} from '../raftpb/checked.js'
import {snapshotMetadataFromWire} from '../raftpb/convert.js'
import {compareBytes, concat, REV_PREFIX, type Revision, revOfKey} from '../storage/keys.js'
import {memberFromWire} from '../storage/records.js'
import {decodeRecord, type HistoryRecord} from './codec.js'
import {SnapshotFileError} from './errors.js'
import {
  CHECKSUM_BYTES, MAX_HEADER_BYTES, MAX_RECORD_BYTES, RECORD_REVISION_BYTES, SNAPSHOT_FORMAT_VERSION,
  SNAPSHOT_MAGIC, type SnapshotHeaderInfo, type SnapshotRecord,
} from './snapshot_format.js'

export type SnapshotItem =
  | {readonly kind: 'header', readonly header: SnapshotHeaderInfo}
  | {readonly kind: 'record', readonly rev: Revision, readonly record: HistoryRecord, readonly raw: SnapshotRecord}
  /** One encoded raftctl.v1.LeaseSnapshotItem of the lease section. */
  | {readonly kind: 'lease', readonly raw: Uint8Array}
  | {readonly kind: 'end', readonly size: number, readonly checksum: string, readonly checksumOk: boolean, readonly records: number}

/** Pulls exact byte counts from an async stream of chunks, hashing what it hands out. */
class ByteSource {
  private buf: Buffer = Buffer.alloc(0)
  private pos = 0
  offset = 0
  readonly hash: Hash = createHash('sha256')
  private readonly it: AsyncIterator<Uint8Array>

  constructor(source: AsyncIterable<Uint8Array>, private readonly name: string) {
    this.it = source[Symbol.asyncIterator]()
  }

  private async fill(n: number): Promise<boolean> {
    while (this.buf.length - this.pos < n) {
      const r = await this.it.next()
      if (r.done) return false
      this.buf = Buffer.concat([this.buf.subarray(this.pos), r.value])
      this.pos = 0
    }
    return true
  }

  /** Reads n bytes; `what` describes them for the truncation error. */
  async read(n: number, what: string, hashed = true): Promise<Buffer> {
    if (!(await this.fill(n))) {
      const have = this.buf.length - this.pos
      throw new SnapshotFileError(`snapshot file ${this.name} is truncated at byte ${this.offset + have} ` +
        `(needed ${n} bytes of ${what} at byte ${this.offset})`)
    }
    const out = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    this.offset += n
    if (hashed) this.hash.update(out)
    return out
  }

  /** Counts the bytes left in the stream (they are an error: nothing follows the checksum). */
  async rest(): Promise<number> {
    let extra = this.buf.length - this.pos
    for (let r = await this.it.next(); !r.done; r = await this.it.next()) extra += r.value.length
    return extra
  }

  async close(): Promise<void> {
    await this.it.return?.()
  }
}

function fail(name: string, at: number, problem: string): never {
  throw new SnapshotFileError(`snapshot file ${name}: ${problem} (at byte ${at})`)
}

/** What the formats before this one lacked, for the refusal of their files. */
const OLDER_FORMATS: Record<number, string> = {1: 'MVCC history', 2: 'leases'}

async function readHeader(src: ByteSource, name: string): Promise<SnapshotHeaderInfo> {
  const magic = await src.read(SNAPSHOT_MAGIC.length, 'the magic')
  if (compareBytes(magic, SNAPSHOT_MAGIC) !== 0) {
    throw new SnapshotFileError(`snapshot file ${name} is not a raftctl snapshot (bad magic ${JSON.stringify(magic.toString('latin1'))})`)
  }
  const version = (await src.read(4, 'the format version')).readUInt32BE(0)
  const older = OLDER_FORMATS[version]
  if (older !== undefined) {
    throw new SnapshotFileError(`snapshot file ${name} has format version ${version} (written by a raftctl without ${older}); ` +
      `this raftctl reads only version ${SNAPSHOT_FORMAT_VERSION}: restore it with the raftctl that wrote it, or take a new ` +
      'snapshot from a cluster running this raftctl (raftctl snapshot save)')
  }
  if (version !== SNAPSHOT_FORMAT_VERSION) {
    throw new SnapshotFileError(`snapshot file ${name} has format version ${version}; this raftctl reads version ${SNAPSHOT_FORMAT_VERSION}`)
  }
  const len = (await src.read(4, 'the header length')).readUInt32BE(0)
  if (len > MAX_HEADER_BYTES) fail(name, src.offset - 4, `header length ${len} is larger than ${MAX_HEADER_BYTES}`)
  const at = src.offset
  const bytes = await src.read(len, 'the header')
  try {
    const h = decodeWith('raftctl.v1.SnapshotFileHeader', () => SnapshotFileHeader.decode(bytes))
    const metadata = snapshotMetadataFromWire(h.metadata)
    const members = (h.members?.members ?? []).map(memberFromWire)
    if (h.revision < 1) throw new Error(`revision ${h.revision} is below 1`)
    if (h.compactRevision < 0 || h.compactRevision > h.revision) throw new Error(`compact revision ${h.compactRevision} is outside 0..${h.revision}`)
    return {
      formatVersion: version, metadata, members, keyCount: h.keyCount, revision: h.revision,
      compactRevision: h.compactRevision, clusterId: h.clusterId, leaseCount: h.leaseCount,
    }
  } catch (err) {
    return fail(name, at, `the header does not decode: ${(err as Error).message}`)
  }
}

/**
 * Checks one record: a revision of safe integers above the previous record's and at most the
 * header's revision, a value that decodes to a put or delete of that revision, and no
 * tombstone at or below the compact revision (compaction drops those).
 */
function checkRecord(bytes: Buffer, h: SnapshotHeaderInfo, prev: Revision | undefined, bad: (problem: string) => never): Extract<SnapshotItem, {kind: 'record'}> {
  const revBytes = new Uint8Array(bytes.subarray(0, RECORD_REVISION_BYTES))
  const rev = revOfKey(concat(REV_PREFIX, revBytes))
  if (rev === undefined || rev.main < 1) return bad('its revision is not an integer in 1..2^53-1')
  if (prev !== undefined && (rev.main < prev.main || (rev.main === prev.main && rev.sub <= prev.sub))) {
    return bad(`revision ${rev.main}.${rev.sub} does not follow ${prev.main}.${prev.sub}`)
  }
  if (rev.main > h.revision) bad(`revision ${rev.main} is above the snapshot's revision ${h.revision}`)
  const value = new Uint8Array(bytes.subarray(RECORD_REVISION_BYTES))
  const d = decodeRecord(value, rev.main)
  if (!d.ok) return bad(d.problem)
  if (d.value.kind === 'delete' && rev.main <= h.compactRevision) bad(`a delete at revision ${rev.main} is at or below the compact revision ${h.compactRevision}`)
  const kv = d.value.kv
  if (d.value.kind === 'put' && (kv.version === 1) !== (kv.createRevision === rev.main)) {
    bad(`a put of version ${kv.version} with create_revision ${kv.createRevision} at revision ${rev.main} (version 1 exactly when created there)`)
  }
  return {kind: 'record', rev, record: d.value, raw: {revision: revBytes, value}}
}

/**
 * How a record changes the number of live keys: a put creates a key when its version is 1, and
 * the first retained record of a key (at or below the compact revision, always its only one
 * there) brings a live key along; a delete removes one. This checks the header's key count in
 * constant memory.
 */
function liveDelta(item: Extract<SnapshotItem, {kind: 'record'}>, compactRevision: number): number {
  if (item.record.kind === 'delete') return -1
  return item.rev.main <= compactRevision || item.record.kv.version === 1 ? 1 : 0
}

/**
 * Parses a snapshot stream. Yields the header, each record, then 'end'. With `verify` (the
 * default) a checksum mismatch throws; without it the 'end' item reports checksumOk = false
 * (for inspect). Truncation, bad magic, an unknown version, undecodable or unordered records
 * and bytes after the checksum always throw.
 */
export async function* parseSnapshot(
  source: AsyncIterable<Uint8Array>, name: string, options: {verify?: boolean} = {},
): AsyncGenerator<SnapshotItem> {
  const src = new ByteSource(source, name)
  try {
    const header = await readHeader(src, name)
    yield {kind: 'header', header}
    let prev: Revision | undefined
    let count = 0
    let live = 0
    for (;;) {
      const at = src.offset
      const len = (await src.read(4, `the length of record ${count + 1}`)).readUInt32BE(0)
      if (len === 0) {
        if (live !== header.keyCount) fail(name, at, `the records leave ${live} live keys, but the header says ${header.keyCount}`)
        break
      }
      count += 1
      if (len > MAX_RECORD_BYTES || len <= RECORD_REVISION_BYTES) fail(name, at, `record ${count} claims ${len} bytes`)
      const bytes = await src.read(len, `record ${count}`)
      const item = checkRecord(bytes, header, prev, (problem) => fail(name, at, `record ${count} is invalid: ${problem}`))
      live += liveDelta(item, header.compactRevision)
      prev = item.rev
      yield item
    }
    yield* readLeaseItems(src, name, header.leaseCount)
    const digest = src.hash.digest()
    const stored = await src.read(CHECKSUM_BYTES, 'the checksum', false)
    const checksumOk = digest.equals(stored)
    if (!checksumOk && options.verify !== false) {
      throw new SnapshotFileError(`snapshot file ${name}: checksum mismatch (the file says ${stored.toString('hex')}, ` +
        `its content hashes to ${digest.toString('hex')}); the file was altered or damaged`)
    }
    const extra = await src.rest()
    if (extra > 0) throw new SnapshotFileError(`snapshot file ${name} has ${extra} unexpected bytes after the checksum (at byte ${src.offset})`)
    yield {kind: 'end', size: src.offset, checksum: stored.toString('hex'), checksumOk, records: count}
  } finally {
    await src.close()
  }
}

/**
 * Reads the lease section up to its end mark: each item must decode as a LeaseSnapshotItem, and
 * the items that are leases must be as many as the header says.
 */
async function* readLeaseItems(src: ByteSource, name: string, leaseCount: number): AsyncGenerator<SnapshotItem> {
  let leases = 0
  for (let n = 1; ; n++) {
    const at = src.offset
    const len = (await src.read(4, `the length of lease item ${n}`)).readUInt32BE(0)
    if (len === 0) {
      if (leases !== leaseCount) fail(name, at, `the lease section holds ${leases} leases, but the header says ${leaseCount}`)
      return
    }
    if (len > MAX_RECORD_BYTES) fail(name, at, `lease item ${n} claims ${len} bytes`)
    const raw = new Uint8Array(await src.read(len, `lease item ${n}`))
    try {
      if (decodeWith('raftctl.v1.LeaseSnapshotItem', () => LeaseSnapshotItem.decode(raw)).lease !== undefined) leases += 1
    } catch (err) {
      fail(name, at, `lease item ${n} does not decode: ${(err as Error).message}`)
    }
    yield {kind: 'lease', raw}
  }
}

/** Reads a snapshot file in chunks (never the whole file at once). */
export function fileChunks(path: string): AsyncIterable<Uint8Array> {
  return createReadStream(path, {highWaterMark: 1 << 20})
}

/** Parses and verifies a whole stream; returns its header and size. Throws SnapshotFileError. */
export async function verifySnapshot(source: AsyncIterable<Uint8Array>, name: string): Promise<{header: SnapshotHeaderInfo, size: number, checksum: string}> {
  let header: SnapshotHeaderInfo | undefined
  for await (const item of parseSnapshot(source, name)) {
    if (item.kind === 'header') header = item.header
    else if (item.kind === 'end') return {header: header!, size: item.size, checksum: item.checksum}
  }
  throw new SnapshotFileError(`snapshot file ${name} ended without a checksum`)
}

/** What `raftctl snapshot inspect` shows. */
export interface SnapshotInspection {
  readonly path: string
  readonly size: number
  readonly formatVersion: number
  readonly index: number
  readonly term: number
  readonly confState: SnapshotHeaderInfo['metadata']['confState']
  readonly members: SnapshotHeaderInfo['members']
  readonly keyCount: number
  readonly revision: number
  /** The file holds the history of revisions compactRevision..revision. */
  readonly compactRevision: number
  /** The number of history records. */
  readonly records: number
  /** The number of leases. */
  readonly leaseCount: number
  readonly clusterId: number
  readonly checksum: string
  readonly checksumOk: boolean
  /** The keys of the first `keys` records, oldest first. */
  readonly firstKeys: readonly Uint8Array[]
}

/**
 * Reads a snapshot file fully and describes it. A checksum mismatch is reported through
 * checksumOk = false; any structural problem (truncation, bad magic, unknown version,
 * undecodable record) throws SnapshotFileError.
 */
export async function inspectSnapshotFile(path: string, options: {keys?: number} = {}): Promise<SnapshotInspection> {
  statSync(path) // a missing file fails here with ENOENT naming the path
  const want = options.keys ?? 0
  let header: SnapshotHeaderInfo | undefined
  const firstKeys: Uint8Array[] = []
  for await (const item of parseSnapshot(fileChunks(path), path, {verify: false})) {
    if (item.kind === 'header') header = item.header
    else if (item.kind === 'record') {
      if (firstKeys.length < want) firstKeys.push(item.record.kv.key)
    } else if (item.kind === 'end') {
      const h = header!
      return {
        path, size: item.size, formatVersion: h.formatVersion, index: h.metadata.index,
        term: h.metadata.term, confState: h.metadata.confState, members: h.members,
        keyCount: h.keyCount, revision: h.revision, compactRevision: h.compactRevision, records: item.records, leaseCount: h.leaseCount,
        clusterId: h.clusterId, checksum: item.checksum, checksumOk: item.checksumOk, firstKeys,
      }
    }
  }
  throw new SnapshotFileError(`snapshot file ${path} ended without a checksum`)
}
