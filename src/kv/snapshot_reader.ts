/**
 * Incremental reader of the snapshot file format (snapshot_format.ts). It reads a stream of
 * chunks of any size, yields the header and then each record as soon as it is complete, and
 * verifies the SHA-256 at the end. Records yielded before the end are NOT yet verified: a caller
 * must not commit anything before the generator finished (restore builds one batch and writes it
 * only afterwards). Every failure is a SnapshotFileError naming the file and the byte offset.
 */
import {createHash, type Hash} from 'node:crypto'
import {createReadStream, statSync} from 'node:fs'
import {KeyValue, SnapshotFileHeader} from '../generated/raftctl/v1/kv.js'
import {decodeWith} from '../raftpb/checked.js'
import {snapshotMetadataFromWire} from '../raftpb/convert.js'
import {compareBytes} from '../storage/keys.js'
import {memberFromWire} from '../storage/records.js'
import {kvProblem} from './codec.js'
import {SnapshotFileError} from './errors.js'
import {
  CHECKSUM_BYTES, MAX_HEADER_BYTES, MAX_RECORD_BYTES, SNAPSHOT_FORMAT_VERSION, SNAPSHOT_MAGIC,
  type SnapshotHeaderInfo,
} from './snapshot_format.js'

export type SnapshotItem =
  | {readonly kind: 'header', readonly header: SnapshotHeaderInfo}
  | {readonly kind: 'kv', readonly kv: KeyValue}
  | {readonly kind: 'end', readonly size: number, readonly checksum: string, readonly checksumOk: boolean}

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

async function readHeader(src: ByteSource, name: string): Promise<SnapshotHeaderInfo> {
  const magic = await src.read(SNAPSHOT_MAGIC.length, 'the magic')
  if (compareBytes(magic, SNAPSHOT_MAGIC) !== 0) {
    throw new SnapshotFileError(`snapshot file ${name} is not a raftctl snapshot (bad magic ${JSON.stringify(magic.toString('latin1'))})`)
  }
  const version = (await src.read(4, 'the format version')).readUInt32BE(0)
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
    if (h.revision < 0) throw new Error(`revision ${h.revision} is negative`)
    return {formatVersion: version, metadata, members, keyCount: h.keyCount, revision: h.revision, clusterId: h.clusterId}
  } catch (err) {
    return fail(name, at, `the header does not decode: ${(err as Error).message}`)
  }
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
    let prev: Uint8Array | undefined
    for (let i = 1; i <= header.keyCount; i++) {
      const at = src.offset
      const len = (await src.read(4, `the length of record ${i}`)).readUInt32BE(0)
      if (len > MAX_RECORD_BYTES) fail(name, at, `record ${i} claims ${len} bytes`)
      const bytes = await src.read(len, `record ${i}`)
      let kv: KeyValue
      try {
        kv = decodeWith('raftctl.v1.KeyValue', () => KeyValue.decode(bytes))
      } catch (err) {
        return fail(name, at, `record ${i} does not decode: ${(err as Error).message}`)
      }
      const problem = kv.key.length === 0 ? 'the key is empty' : kvProblem(kv, header.revision)
      if (problem !== undefined) fail(name, at, `record ${i} is invalid: ${problem}`)
      if (prev !== undefined && compareBytes(prev, kv.key) >= 0) fail(name, at, `record ${i} is not in ascending key order`)
      prev = kv.key
      yield {kind: 'kv', kv}
    }
    const digest = src.hash.digest()
    const stored = await src.read(CHECKSUM_BYTES, 'the checksum', false)
    const checksumOk = digest.equals(stored)
    if (!checksumOk && options.verify !== false) {
      throw new SnapshotFileError(`snapshot file ${name}: checksum mismatch (the file says ${stored.toString('hex')}, ` +
        `its content hashes to ${digest.toString('hex')}); the file was altered or damaged`)
    }
    const extra = await src.rest()
    if (extra > 0) throw new SnapshotFileError(`snapshot file ${name} has ${extra} unexpected bytes after the checksum (at byte ${src.offset})`)
    yield {kind: 'end', size: src.offset, checksum: stored.toString('hex'), checksumOk}
  } finally {
    await src.close()
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
  readonly clusterId: number
  readonly checksum: string
  readonly checksumOk: boolean
  /** The first `keys` keys of the file, in order. */
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
    else if (item.kind === 'kv') {
      if (firstKeys.length < want) firstKeys.push(item.kv.key)
    } else {
      const h = header!
      return {
        path, size: item.size, formatVersion: h.formatVersion, index: h.metadata.index,
        term: h.metadata.term, confState: h.metadata.confState, members: h.members,
        keyCount: h.keyCount, revision: h.revision, clusterId: h.clusterId,
        checksum: item.checksum, checksumOk: item.checksumOk, firstKeys,
      }
    }
  }
  throw new SnapshotFileError(`snapshot file ${path} ended without a checksum`)
}
