/**
 * Snapshots of the state machine: a consistent image of the retained MVCC history (every R/
 * record not logically compacted, see hash.ts retainedRecords), the KV meta and the leases (with
 * their attached keys, through the lease hooks) at an applied index, written as a snapshot file
 * (snapshot_format.ts), and the atomic restore of one.
 *
 * Consistency: the RocksDB iterators hold implicit RocksDB snapshots, taken synchronously when
 * each iterator is created (the binding's iterator_init calls GetSnapshot; leveldown's contract:
 * "It operates on a snapshot of the store, created at the time db.iterator() was called"). They
 * are created under the state lock together with the applied index, revisions, key count,
 * ConfState and members, so the file describes exactly the state at that applied index while
 * later entries apply and physical compaction runs: the lock is released before a single record
 * is read.
 *
 * Background: createSnapshot then reads and writes in slices paced by the store's
 * SnapshotPacer (snapshot_pace.ts), copies each stored R/ value into its record without
 * re-encoding it (every record is still checked), and fsyncs the file every SYNC_EVERY_BYTES
 * (writeFileAtomic), so neither the event loop nor the disk is held by a build for long.
 *
 * Restore: the file is verified completely first; then, under both storage locks, one native
 * batch deletes every old k/, R/ and h/ record, the compaction cursor and (the lease hooks) every
 * lease record, writes every history record with its h/ entry, every lease item the lease hooks
 * accept, and rebuilds k/ from the records (records come in revision order, so the
 * batch's last write of each key is its latest state), the KV meta (physical revision = compact
 * revision: the file holds nothing compacted), (RaftStorage.
 * addSnapshotReset) the log reset, snapshot record, ConfState, members, applied index and hard
 * state, and (RaftStorage.addReadyWrites) the entries after the snapshot and the hard state of
 * the Ready that carried the snapshot; it is written with sync: true. A crash leaves either the
 * old or the new state, and memory changes only after the write.
 */
import {open, readdir, rename, rm, stat} from 'node:fs/promises'
import {existsSync, readdirSync, rmSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'
import {SnapshotOutOfDateError} from '../raft/errors.js'
import {EMPTY_BYTES, type SnapshotMetadata} from '../raft/types.js'
import type {Db} from '../storage/db.js'
import {asDiskFault, StorageCorruptError} from '../storage/errors.js'
import {
  describeKey, HISTORY_PREFIX, historyKey, KV_META_KEY, prefixRangeEnd, REV_PREFIX, revKey, revOfKey, USER_PREFIX, userKey,
} from '../storage/keys.js'
import {logBoundsAfterSnapshot, type RaftStorage, type ReadyWrites} from '../storage/raft_storage.js'
import {decodeRecord, encodeKind, encodeMeta, encodeStoredKv, type KvMeta} from './codec.js'
import {COMPACT_CURSOR_KEY} from './compaction.js'
import {SnapshotFileError} from './errors.js'
import type {LeaseHooks} from './lease_hooks.js'
import {openRetained, retainedRecords} from './hash.js'
import {CHECKSUM_BYTES, encodeSnapshotFile, type SnapshotHeaderInfo, type SnapshotRecord} from './snapshot_format.js'
import {SLICE_BYTES, type SnapshotPacer} from './snapshot_pace.js'
import {fileChunks, parseSnapshot, verifySnapshot} from './snapshot_reader.js'

/** What the snapshot functions need from the KvStore. */
export interface SnapshotHost {
  readonly storage: RaftStorage
  readonly db: Db
  readonly currentMeta: KvMeta
  readonly leases: LeaseHooks
  readonly options: {readonly keepSnapshots?: number}
  /** Paces createSnapshot (KvStoreOptions.snapshotPacer, by default restingPacer()). */
  readonly snapshotPacer: SnapshotPacer
  replaced(meta: KvMeta): void
}

/** A consistent image being streamed. Consume `chunks` to the end (or call its return()). */
export interface SnapshotExport {
  readonly header: Omit<SnapshotHeaderInfo, 'formatVersion'>
  readonly chunks: AsyncGenerator<Uint8Array, {size: number, checksum: string, records: number}>
}

export interface SnapshotInfo {
  readonly metadata: SnapshotMetadata
  readonly path: string
  readonly size: number
  readonly checksum: string
  /** False when the latest snapshot already covered the applied index (nothing was written). */
  readonly created: boolean
}

const FILE_RE = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/

/**
 * Captures header + iterator under the state lock; `onlyIfNewer` skips when not newer. With a
 * pacer, the records are read in slices of SLICE_BYTES and the pacer is awaited before each.
 */
async function capture(host: SnapshotHost, onlyIfNewer: boolean, pace?: SnapshotPacer): Promise<SnapshotExport | undefined> {
  const rs = host.storage
  return rs.exclusive(() => {
    const applied = rs.applied
    if (onlyIfNewer && applied.index <= rs.snapshot(0, 0).metadata.index) return undefined
    const meta = host.currentMeta
    const header = {
      metadata: {index: applied.index, term: applied.term, confState: rs.confState},
      members: rs.members(), keyCount: meta.keyCount, revision: meta.revision,
      compactRevision: meta.compactRevision, clusterId: rs.clusterId, leaseCount: host.leases.count,
    }
    const {index, records: iter} = openRetained(host.db, meta.compactRevision, meta.revision, SLICE_BYTES)
    const leaseItems = host.leases.exportItems()
    return {header, chunks: encodeSnapshotFile(header, records(retainedRecords(rs.dir, index, iter, meta.compactRevision), rs.dir, pace), leaseItems)}
  })
}

/**
 * The snapshot records of the retained R/ records `iter` yields, each checked first (a corrupt
 * record throws StorageCorruptError naming it, so a bad record is never shipped); with a pacer,
 * awaited before every slice of about SLICE_BYTES of stored bytes.
 */
async function* records(iter: AsyncIterable<[Buffer, Buffer]>, dir: string, pace?: SnapshotPacer): AsyncGenerator<SnapshotRecord> {
  let slice = 0
  let sliceStart = performance.now()
  if (pace !== undefined) await pace(0)
  for await (const [k, v] of iter) {
    if (pace !== undefined && slice >= SLICE_BYTES) {
      await pace(performance.now() - sliceStart)
      slice = 0
      sliceStart = performance.now()
    }
    const rev = revOfKey(k)
    const d = rev === undefined ? {ok: false as const, problem: 'the key is not R/ + two 8-byte revisions'} : decodeRecord(v, rev.main)
    if (!d.ok) throw new StorageCorruptError(dir, `history record ${describeKey(k)}`, d.problem)
    slice += k.length + v.length
    yield {revision: k.subarray(REV_PREFIX.length), value: v}
  }
}

/** Streams the current applied state as a snapshot file (for backups / snapshot download). */
export async function exportSnapshot(host: SnapshotHost): Promise<SnapshotExport> {
  return (await capture(host, false))!
}

/**
 * Bytes written between two fdatasyncs of a file being written, so that the final fsync never
 * flushes a large backlog at once (which would hold up the WAL syncs of the Ready loop).
 */
const SYNC_EVERY_BYTES = 4 << 20

/**
 * Writes chunks to `path` through a temporary file (fdatasynced every SYNC_EVERY_BYTES), fsyncs
 * it, renames it, fsyncs the directory. On any failure the temporary file is removed and `path`
 * is untouched; a failure of the file system (full, read-only, not writable) is thrown as a
 * DiskFaultError naming the file.
 */
export async function writeFileAtomic(path: string, chunks: AsyncIterable<Uint8Array>): Promise<number> {
  try {
    return await writeThroughTemp(path, chunks)
  } catch (err) {
    throw (err as NodeJS.ErrnoException).syscall === undefined ? err : asDiskFault(err, `writing snapshot file ${path}`)
  }
}

async function writeThroughTemp(path: string, chunks: AsyncIterable<Uint8Array>): Promise<number> {
  const tmp = `${path}.tmp`
  const fh = await open(tmp, 'w')
  let size = 0
  let synced = 0
  try {
    for await (const c of chunks) {
      await fh.write(c)
      size += c.length
      if (size - synced >= SYNC_EVERY_BYTES) {
        await fh.datasync()
        synced = size
      }
    }
    await fh.sync()
  } catch (err) {
    await fh.close()
    await rm(tmp, {force: true})
    throw err
  }
  await fh.close()
  await rename(tmp, path).catch(async (err: unknown) => {
    await rm(tmp, {force: true})
    throw err
  })
  const d = await open(dirname(path), 'r')
  try {
    await d.sync()
  } finally {
    await d.close()
  }
  return size
}

async function fileChecksum(path: string): Promise<{size: number, checksum: string}> {
  const {size} = await stat(path)
  const fh = await open(path, 'r')
  try {
    const b = Buffer.alloc(CHECKSUM_BYTES)
    await fh.read(b, 0, CHECKSUM_BYTES, Math.max(0, size - CHECKSUM_BYTES))
    return {size, checksum: b.toString('hex')}
  } finally {
    await fh.close()
  }
}

/**
 * Creates a Raft snapshot at the applied index: writes the file <term>-<index>.snap in the snap
 * dir, records its metadata in RaftStorage (so the core serves it and compact() may use it) and
 * prunes old files. When the latest snapshot already covers the applied index nothing is written.
 */
export async function createSnapshot(host: SnapshotHost): Promise<SnapshotInfo> {
  const rs = host.storage
  const img = await capture(host, true, host.snapshotPacer)
  if (img === undefined) {
    const metadata = rs.snapshot(0, 0).metadata
    const path = rs.snapshotPath(metadata)
    return {metadata, path, ...(await fileChecksum(path)), created: false}
  }
  const path = rs.snapshotPath(img.header.metadata)
  let result: {size: number, checksum: string} | undefined
  async function* tracked(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const r = await img!.chunks.next()
      if (r.done) {
        result = r.value
        return
      }
      yield r.value
    }
  }
  await writeFileAtomic(path, tracked())
  await rs.recordSnapshot(img.header.metadata)
  await pruneSnapshots(rs, host.options.keepSnapshots ?? 2)
  return {metadata: img.header.metadata, path, size: result!.size, checksum: result!.checksum, created: true}
}

/**
 * Stores a snapshot received from the leader as <term>-<index>.snap, verifying it while it is
 * written; the file's metadata must match `meta` and its cluster id this node's. Returns the
 * path. Nothing is applied: the core decides (restoreSnapshot when its Ready carries it).
 */
export async function stageSnapshot(host: SnapshotHost, meta: SnapshotMetadata, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<string> {
  const rs = host.storage
  const path = rs.snapshotPath(meta)
  const name = `${path} (received for index ${meta.index})`
  let header: SnapshotHeaderInfo | undefined
  async function* checked(): AsyncGenerator<Uint8Array> {
    const copy: Uint8Array[] = []
    async function* tee(): AsyncGenerator<Uint8Array> {
      for await (const c of chunks) {
        copy.push(c)
        yield c
      }
    }
    for await (const item of parseSnapshot(tee(), name)) {
      if (item.kind === 'header') {
        header = item.header
        checkHeader(rs, header, meta, name)
      }
      yield* copy.splice(0)
    }
    yield* copy.splice(0)
  }
  await writeFileAtomic(path, checked())
  if (header === undefined) throw new SnapshotFileError(`snapshot file ${name} has no header`)
  return path
}

function checkHeader(rs: RaftStorage, h: SnapshotHeaderInfo, meta: SnapshotMetadata | undefined, name: string): void {
  if (h.clusterId !== rs.clusterId) {
    throw new SnapshotFileError(`snapshot file ${name} belongs to cluster ${h.clusterId}, not ${rs.clusterId}`)
  }
  if (meta !== undefined && (h.metadata.index !== meta.index || h.metadata.term !== meta.term)) {
    throw new SnapshotFileError(`snapshot file ${name} covers index ${h.metadata.index} term ${h.metadata.term}, ` +
      `but index ${meta.index} term ${meta.term} was expected`)
  }
}

/**
 * Restores the staged snapshot file of `meta` (see stageSnapshot); see restoreFile. `ready` is
 * the rest of the Ready that carried the snapshot (its entries and hard state), persisted in the
 * same batch.
 */
export async function restoreSnapshot(host: SnapshotHost, meta: SnapshotMetadata, ready?: ReadyWrites): Promise<SnapshotHeaderInfo> {
  return restoreFile(host, host.storage.snapshotPath(meta), meta, false, ready)
}

/**
 * Restores a snapshot file from anywhere (a backup): it is verified, copied into the snap dir
 * under its canonical name and restored. `allowForeignCluster` accepts a file of another cluster
 * id (disaster recovery into a freshly created data dir). A file that cannot be restored (damaged,
 * of another cluster, not newer than the applied index) leaves the data dir as it was: it is
 * refused before the copy, and a copy made for a restore that then fails is removed. An existing
 * file under the canonical name is never replaced by one with other content.
 */
export async function restoreFromFile(host: SnapshotHost, path: string, options: {allowForeignCluster?: boolean} = {}): Promise<SnapshotHeaderInfo> {
  const rs = host.storage
  const {header, checksum} = await verifySnapshot(fileChunks(path), path)
  if (!options.allowForeignCluster) checkHeader(rs, header, undefined, path)
  checkNewer(rs, header.metadata.index)
  const target = rs.snapshotPath(header.metadata)
  const copied = target !== path && await copyUnlessPresent(path, target, checksum)
  try {
    return await restoreFile(host, target, header.metadata, options.allowForeignCluster === true)
  } catch (err) {
    if (copied && rs.applied.index !== header.metadata.index) await rm(target, {force: true})
    throw err
  }
}

/**
 * Copies `path` to `target` unless `target` already holds the same file (same SHA-256); returns
 * whether it copied. Refuses to replace a different file: two snapshots of one cluster at the same
 * index and term must be the same, so a differing one means one of them is not what it claims.
 */
async function copyUnlessPresent(path: string, target: string, checksum: string): Promise<boolean> {
  if (existsSync(target)) {
    const present = await fileChecksum(target)
    if (present.checksum === checksum) return false
    throw new SnapshotFileError(`snapshot file ${path} covers the same index and term as ${target} but differs from it; ` +
      'refusing to replace it')
  }
  await writeFileAtomic(target, fileChunks(path))
  return true
}

/** Throws SnapshotOutOfDateError when the node already applied `index`. */
function checkNewer(rs: RaftStorage, index: number): void {
  if (index <= rs.applied.index) {
    throw new SnapshotOutOfDateError(`snapshot at index ${index} is not newer than the applied index ${rs.applied.index}`)
  }
}

/**
 * Replaces the state machine with the file's content, and persists `ready` (entries at or
 * before the snapshot index are dropped), in one batch (see the module comment). Throws
 * SnapshotOutOfDateError when the node already applied the snapshot's index, and the storage's
 * errors when `ready` is refused; either way nothing is written and nothing changes.
 */
async function restoreFile(
  host: SnapshotHost, path: string, meta: SnapshotMetadata, foreignOk: boolean, ready?: ReadyWrites,
): Promise<SnapshotHeaderInfo> {
  const rs = host.storage
  const {header} = await verifySnapshot(fileChunks(path), path)
  if (!foreignOk) checkHeader(rs, header, meta, path)
  await rs.exclusiveAll(async () => {
    checkNewer(rs, header.metadata.index)
    const batch = host.db.chainedBatch()
    for (const prefix of [USER_PREFIX, REV_PREFIX, HISTORY_PREFIX]) {
      for await (const [k] of host.db.iterate({gte: prefix, lt: prefixRangeEnd(prefix), values: false})) batch.del(k)
    }
    batch.del(COMPACT_CURSOR_KEY)
    const leases = await host.leases.beginRestore(batch)
    for await (const item of parseSnapshot(fileChunks(path), path)) {
      if (item.kind === 'lease') leases.add(item.raw)
      if (item.kind !== 'record') continue
      const {kind, kv} = item.record
      batch.put(revKey(item.rev), item.raw.value)
      batch.put(historyKey(kv.key, item.rev), encodeKind(kind))
      if (kind === 'put') batch.put(userKey(kv.key), encodeStoredKv(kv))
      else batch.del(userKey(kv.key))
    }
    const meta: KvMeta = {
      revision: header.revision, compactRevision: header.compactRevision,
      physicalRevision: header.compactRevision, keyCount: header.keyCount,
    }
    batch.put(KV_META_KEY, encodeMeta(meta))
    const after = rs.addSnapshotReset(batch, {data: EMPTY_BYTES, metadata: header.metadata}, header.members)
    const afterReady = ready === undefined ? () => {} : rs.addReadyWrites(batch, ready, logBoundsAfterSnapshot(header.metadata.index))
    await batch.write({sync: true})
    after()
    afterReady()
    leases.commit()
    host.replaced(meta)
  })
  await pruneSnapshots(rs, host.options.keepSnapshots ?? 2)
  return header
}

/**
 * Deletes old snapshot files: keeps the latest snapshot's file, any newer (staged, not yet
 * applied) file, and the newest `keep - 1` older ones.
 */
export async function pruneSnapshots(rs: RaftStorage, keep: number): Promise<void> {
  const current = rs.snapshot(0, 0).metadata.index
  const older: Array<{name: string, index: number}> = []
  for (const name of await readdir(rs.snapshotDir)) {
    const m = FILE_RE.exec(name)
    if (m === null) continue
    const index = parseInt(m[2], 16)
    if (index < current) older.push({name, index})
  }
  older.sort((a, b) => b.index - a.index)
  for (const f of older.slice(Math.max(0, keep - 1))) await rm(join(rs.snapshotDir, f.name), {force: true})
}

/** Removes *.tmp files left by a crash while a snapshot file was being written (at open). */
export function removeTempFiles(rs: RaftStorage): void {
  for (const name of readdirSync(rs.snapshotDir)) {
    if (name.endsWith('.tmp')) rmSync(join(rs.snapshotDir, basename(name)), {force: true})
  }
}
