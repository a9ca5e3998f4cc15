/**
 * KvStore: the replicated key/value state machine of a raftctl node, stored in the node's
 * RocksDB next to the Raft log (user keys under k/, meta under v/meta).
 *
 * apply() is deterministic and idempotent per index: the writes of an entry, the new revision
 * and the applied index are one synced batch (RaftStorage.commitApplied), and an entry at or
 * below the applied index is skipped, so a crash between applying and acknowledging neither
 * loses nor doubles an entry. Reads serve the latest applied state; watches deliver events of
 * applied entries only. Snapshots (snapshots.ts) stream a consistent image into a file and
 * restore one atomically.
 */
import type {
  DeleteRangeResponse, PutResponse, RangeRequest, RangeResponse, ResponseHeader, TxnResponse,
  WatchRequest,
} from '../generated/raftctl/v1/kv.js'
import {EntryType, type Entry, type SnapshotMetadata} from '../raft/types.js'
import {StorageCorruptError} from '../storage/errors.js'
import {describeKey, KV_META_KEY} from '../storage/keys.js'
import {type RaftStorage, type ReadyWrites} from '../storage/raft_storage.js'
import type {Db} from '../storage/db.js'
import {decodeInternalRequest, decodeMeta, encodeMeta} from './codec.js'
import {KvError} from './errors.js'
import {checkReadRevision, Execution, readStored} from './exec.js'
import {dbBounds, isEmptyRange, toRange} from './range.js'
import type {SnapshotHeaderInfo} from './snapshot_format.js'
import * as snapshots from './snapshots.js'
import {restingPacer, type SnapshotPacer} from './snapshot_pace.js'
import {checkKey, validateRange, validateRequest} from './validate.js'
import {WatchHub, type Watcher} from './watch.js'

export interface KvStoreOptions {
  /** Events kept in memory for watches that start in the past (default 10,000). */
  readonly watchHistory?: number
  /** Events a watcher may have queued before it is canceled as too slow (default 10,000). */
  readonly watchMaxPending?: number
  /** Snapshot files kept in the snap dir (default 2: the latest and the one before). */
  readonly keepSnapshots?: number
  /** Paces createSnapshot (default restingPacer(): a build takes at most a third of the event loop). */
  readonly snapshotPacer?: SnapshotPacer
}

/** The outcome of applying one normal entry. */
export interface ApplyResult {
  readonly index: number
  /** False when the entry had been applied before (nothing was done). */
  readonly applied: boolean
  /** The store revision after the entry. */
  readonly revision: number
  /** InternalRequest.id, for matching the result to the waiting proposer. */
  readonly requestId?: number
  readonly put?: PutResponse
  readonly deleteRange?: DeleteRangeResponse
  readonly txn?: TxnResponse
  /** Set when the entry's request was invalid: it was applied as a no-op. */
  readonly error?: KvError
}

export class KvStore {
  private rev: number
  private keys: number
  /** @internal */ readonly hub: WatchHub
  /** @internal Paces snapshot builds (KvStoreOptions.snapshotPacer). */
  readonly snapshotPacer: SnapshotPacer
  private closed = false

  private constructor(readonly storage: RaftStorage, meta: {revision: number, keyCount: number}, readonly options: KvStoreOptions) {
    this.rev = meta.revision
    this.keys = meta.keyCount
    this.hub = new WatchHub(meta.revision, options.watchHistory ?? 10_000, options.watchMaxPending ?? 10_000)
    this.snapshotPacer = options.snapshotPacer ?? restingPacer()
  }

  /** Opens the state machine stored in `storage`'s database; the meta record is checked. */
  static async open(storage: RaftStorage, options: KvStoreOptions = {}): Promise<KvStore> {
    const raw = await storage.db.get(KV_META_KEY)
    let meta = {revision: 0, keyCount: 0}
    if (raw !== undefined) {
      const d = decodeMeta(raw)
      if (!d.ok) throw new StorageCorruptError(storage.dir, describeKey(KV_META_KEY), d.problem)
      meta = d.value
    }
    snapshots.removeTempFiles(storage)
    return new KvStore(storage, meta, options)
  }

  get db(): Db {
    return this.storage.db
  }

  /** The revision of the latest applied write. */
  get revision(): number {
    return this.rev
  }

  /** The number of keys stored. */
  get keyCount(): number {
    return this.keys
  }

  get appliedIndex(): number {
    return this.storage.applied.index
  }

  /** The oldest revision a watch can start at. */
  get watchStartRevision(): number {
    return this.hub.historyStart
  }

  header(revision = this.rev): ResponseHeader {
    return {clusterId: this.storage.clusterId, memberId: this.storage.nodeId, revision, raftTerm: 0}
  }

  /**
   * Applies a committed normal entry. Entries must come in index order (conf-change entries go
   * through RaftStorage.applyConfChange, which advances the same applied index). Empty data (the
   * leader's no-op entry) only advances the applied index. An undecodable or invalid request is
   * applied as a no-op and reported in `error`, identically on every replica.
   */
  apply(entry: Pick<Entry, 'index' | 'term' | 'data'> & {readonly entryType?: EntryType}): Promise<ApplyResult> {
    if (entry.entryType !== undefined && entry.entryType !== EntryType.EntryNormal) {
      throw new KvError('INVALID_REQUEST', `entry ${entry.index} is a conf change; apply it with RaftStorage.applyConfChange`)
    }
    return this.storage.exclusive(async () => {
      const {index, term} = entry
      if (index <= this.storage.applied.index) return {index, applied: false, revision: this.rev}
      if (entry.data.length === 0) {
        await this.storage.commitApplied(index, term, [])
        return {index, applied: true, revision: this.rev}
      }
      let req
      try {
        req = decodeInternalRequest(entry.data)
        validateRequest(req)
      } catch (err) {
        await this.storage.commitApplied(index, term, [])
        const e = err instanceof KvError ? err : new KvError('INVALID_REQUEST', `entry ${index}: ${(err as Error).message}`)
        return {index, applied: true, revision: this.rev, requestId: req?.id, error: e}
      }
      return this.execute(index, term, req.id, req)
    })
  }

  private async execute(index: number, term: number, requestId: number, req: ReturnType<typeof decodeInternalRequest>): Promise<ApplyResult> {
    const x = new Execution(this.db, this.storage.dir, this.rev, {clusterId: this.storage.clusterId, memberId: this.storage.nodeId})
    let out: Pick<ApplyResult, 'put' | 'deleteRange' | 'txn'>
    try {
      if (req.put !== undefined) out = {put: await x.put(req.put)}
      else if (req.deleteRange !== undefined) out = {deleteRange: await x.deleteRange(req.deleteRange)}
      else out = {txn: await x.txn(req.txn!)}
    } catch (err) {
      if (!(err instanceof KvError)) throw err
      await this.storage.commitApplied(index, term, [])
      return {index, applied: true, revision: this.rev, requestId, error: err}
    }
    const revision = x.finish()
    const keyCount = this.keys + x.countDelta
    const ops = x.ops()
    if (x.wrote) ops.push({type: 'put', key: KV_META_KEY, value: encodeMeta({revision, keyCount})})
    await this.storage.commitApplied(index, term, ops)
    this.rev = revision
    this.keys = keyCount
    if (x.wrote) this.hub.publish(revision, x.events)
    return {index, applied: true, revision, requestId, ...out}
  }

  /**
   * Reads a range from the latest applied state (a serializable read; the server makes it
   * linearizable with ReadIndex first). The RocksDB iterator and the revision are captured
   * together under the state lock, so the response is one consistent state.
   */
  async range(req: RangeRequest): Promise<RangeResponse> {
    validateRange(req)
    const r = toRange(req.key, req.rangeEnd)
    const {revision, iter} = await this.storage.exclusive(() => ({
      revision: this.rev, iter: isEmptyRange(r) ? undefined : this.db.iterate(dbBounds(r)),
    }))
    try {
      checkReadRevision(req.revision, revision)
    } catch (err) {
      await iter?.return?.()
      throw err
    }
    const kvs = []
    let count = 0
    for await (const [k, v] of iter ?? []) {
      count += 1
      if (req.countOnly || (req.limit > 0 && kvs.length >= req.limit)) continue
      const kv = readStored(this.storage.dir, k, v)
      kvs.push(req.keysOnly ? {...kv, value: new Uint8Array(0)} : kv)
    }
    return {header: this.header(revision), kvs, more: req.limit > 0 && count > req.limit, count}
  }

  /**
   * Starts a watch on [key, range_end) from start_revision (0 = the next revision). Throws
   * COMPACTED (with compactRevision) when the start is older than the retained history.
   */
  watch(req: WatchRequest): Watcher {
    if (this.closed) throw new KvError('WATCH_CANCELED', 'the store is closed')
    checkKey('watch', req.key, true)
    if (!Number.isSafeInteger(req.startRevision) || req.startRevision < 0) {
      throw new KvError('INVALID_REQUEST', `watch start revision ${req.startRevision} must be an integer >= 0`)
    }
    return this.hub.watch({range: toRange(req.key, req.rangeEnd), startRevision: req.startRevision, prevKv: req.prevKv}, this.rev)
  }

  /** @see snapshots.exportSnapshot */
  exportSnapshot(): Promise<snapshots.SnapshotExport> {
    return snapshots.exportSnapshot(this)
  }

  /** @see snapshots.createSnapshot */
  createSnapshot(): Promise<snapshots.SnapshotInfo> {
    return snapshots.createSnapshot(this)
  }

  /** @see snapshots.stageSnapshot */
  stageSnapshot(meta: SnapshotMetadata, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<string> {
    return snapshots.stageSnapshot(this, meta, chunks)
  }

  /**
   * Installs the staged snapshot of `meta`; `ready` (the entries and hard state of the Ready
   * that carried it) is persisted in the same batch. @see snapshots.restoreSnapshot
   */
  restoreSnapshot(meta: SnapshotMetadata, ready?: ReadyWrites): Promise<SnapshotHeaderInfo> {
    return snapshots.restoreSnapshot(this, meta, ready)
  }

  /** @see snapshots.restoreFromFile */
  restoreFromFile(path: string, options: {allowForeignCluster?: boolean} = {}): Promise<SnapshotHeaderInfo> {
    return snapshots.restoreFromFile(this, path, options)
  }

  /** @internal Called by restore (under both locks) after its batch committed. */
  replaced(revision: number, keyCount: number): void {
    this.rev = revision
    this.keys = keyCount
    this.hub.reset(revision, `the store was replaced by a snapshot at revision ${revision}; restart the watch from revision ${revision + 1}`)
  }

  /** Cancels every watch. The RaftStorage (and its database) is closed by its owner. */
  close(): void {
    this.closed = true
    this.hub.close()
  }
}
