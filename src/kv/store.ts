/**
 * KvStore: the replicated state machine of a raftctl node, an MVCC store with etcd's semantics,
 * stored in the node's RocksDB next to the Raft log (docs/storage-layout.md): v/meta, the
 * latest value of each live key (k/), every write's history record (R/) and the per-key history
 * index (h/). Every write creates revision {main, sub}; reads at any revision not compacted.
 *
 * apply() is deterministic and idempotent per index: the writes of an entry, the meta and the
 * applied index are one batch (RaftStorage.commitApplied), and an entry at or below the applied
 * index is skipped, so a crash between applying and acknowledging neither loses nor doubles an
 * entry. Compaction is logical at apply and physical in the background (compaction.ts).
 * Snapshots (snapshots.ts) stream the retained history into a file and restore one atomically.
 */
import type {CompactionResponse, RangeRequest, RangeResponse, TxnRequest, TxnResponse} from '../generated/etcd/etcdserverpb/kv.js'
import type {Event, KeyValue} from '../generated/etcd/mvccpb/kv.js'
import type {CompactionRequest} from '../generated/etcd/etcdserverpb/kv.js'
import {EntryType, type Entry, type SnapshotMetadata} from '../raft/types.js'
import {WireDecodeError} from '../raftpb/checked.js'
import type {BatchOp, Db} from '../storage/db.js'
import {StorageCorruptError} from '../storage/errors.js'
import {describeKey, KV_META_KEY} from '../storage/keys.js'
import {type RaftStorage, type ReadyWrites} from '../storage/raft_storage.js'
import {decodeInternalRequest, decodeMeta, encodeMeta, INITIAL_META, type KvMeta} from './codec.js'
import {checkCursor, COMPACT_CURSOR_KEY, type CompactionOptions, PhysicalCompactor} from './compaction.js'
import {compacted, futureRevision, invalid, KvError} from './errors.js'
import {Execution, readRevision, revisionHeader, type WriteResult} from './exec.js'
import {hashKV, type KvHash} from './hash.js'
import {history, type RevisionEvents} from './history.js'
import {type LeaseHooks, readOnlyLeases, WITHOUT_LEASES} from './lease_hooks.js'
import {dbBounds, historyBounds, isEmptyRange, shapeRange, toRange} from './range.js'
import type {SnapshotHeaderInfo} from './snapshot_format.js'
import * as snapshots from './snapshots.js'
import {restingPacer, type SnapshotPacer} from './snapshot_pace.js'
import {isReadOnlyTxn, validateRange, validateRequest, validateTxn} from './validate.js'
import {collectLatest, collectPast} from './view.js'
import {WatchHub, type WatchHubOptions, type WatchSource} from './watch/index.js'

export interface KvStoreOptions {
  /** Bounds of the watch hub (queue per watcher, catch-up chunks). */
  readonly watch?: WatchHubOptions
  /** Snapshot files kept in the snap dir (default 2: the latest and the one before). */
  readonly keepSnapshots?: number
  /** Paces createSnapshot (default restingPacer(): a build takes at most a third of the event loop). */
  readonly snapshotPacer?: SnapshotPacer
  /** Physical compaction batches and test hook. */
  readonly compaction?: CompactionOptions
  /**
   * The leases (src/lease's LeaseStore, through openStateMachine). Without them a put without a
   * lease and a snapshot without leases work, and anything touching a lease throws.
   */
  readonly leases?: LeaseHooks
}

/**
 * The outcome of applying one normal entry. Responses carry a header with only the revision
 * set; the service fills cluster_id, member_id and raft_term.
 */
export interface ApplyResult extends WriteResult {
  readonly index: number
  /** False when the entry had been applied before (nothing was done). */
  readonly applied: boolean
  /** The store revision after the entry. */
  readonly revision: number
  /** InternalRaftRequest.id, for matching the result to the waiting proposer. */
  readonly requestId?: number
  readonly compaction?: CompactionResponse
  /** Set when the entry's request was refused: it was applied as a no-op. */
  readonly error?: KvError
}

/** Told about every applied revision's events (in order) and about a replaced state. */
export interface KvListener {
  published(revision: number, events: readonly Event[]): void
  replaced(revision: number): void
}

/**
 * The store is the watch hub's WatchSource: `revision` advances and hub.publish() is called in
 * the same synchronous step once an entry's batch is committed, so a watcher never misses or
 * repeats a revision between its catch-up from history (R/ records on disk, also after a
 * restart) and the live events.
 */
export class KvStore implements WatchSource {
  private meta: KvMeta
  /** Bumped whenever a snapshot replaced the whole state (the compactor stops a walk of the old one). */
  private replacedCount = 0
  /** Delivers applied events to watches (the Watch service serves it); see src/kv/watch/hub.ts. */
  readonly hub: WatchHub
  /** @internal Paces snapshot builds (KvStoreOptions.snapshotPacer). */
  readonly snapshotPacer: SnapshotPacer
  private readonly listeners = new Set<KvListener>()
  private readonly compactor: PhysicalCompactor
  /** The lease hooks (KvStoreOptions.leases); the services look a lease up before proposing. */
  readonly leases: LeaseHooks

  private constructor(readonly storage: RaftStorage, meta: KvMeta, readonly options: KvStoreOptions) {
    this.meta = meta
    this.hub = new WatchHub(this, options.watch)
    this.snapshotPacer = options.snapshotPacer ?? restingPacer()
    this.leases = options.leases ?? WITHOUT_LEASES
    const store = this
    this.compactor = new PhysicalCompactor({
      db: storage.db, dir: storage.dir,
      get compactRevision() { return store.meta.compactRevision },
      get physicalRevision() { return store.meta.physicalRevision },
      get generation() { return store.replacedCount },
      exclusive: (fn) => storage.exclusive(fn),
      commitPhysical: async (ops, physical) => {
        const next = {...this.meta, physicalRevision: physical}
        await this.db.write([...ops, {type: 'put', key: KV_META_KEY, value: encodeMeta(next)}], {sync: true})
        this.meta = next
      },
    }, options.compaction)
  }

  /** Opens the state machine stored in `storage`'s database; the meta record is checked. Nothing is written to RocksDB. */
  static async open(storage: RaftStorage, options: KvStoreOptions = {}): Promise<KvStore> {
    const raw = await storage.db.get(KV_META_KEY)
    let meta = INITIAL_META
    if (raw !== undefined) {
      const d = decodeMeta(raw)
      if (!d.ok) throw new StorageCorruptError(storage.dir, describeKey(KV_META_KEY), d.problem)
      meta = d.value
    }
    checkCursor(storage.dir, await storage.db.get(COMPACT_CURSOR_KEY))
    snapshots.removeTempFiles(storage)
    return new KvStore(storage, meta, options)
  }

  /**
   * Resumes a physical compaction the previous run left unfinished (v/compact-cursor). Opening
   * the store starts no background work, so an open only reads; the server calls this once it
   * serves. Applying a compaction and waitPhysicalCompaction start the worker themselves.
   */
  resumeCompaction(): void {
    this.compactor.kick()
  }

  get db(): Db {
    return this.storage.db
  }

  /** The revision of the latest applied write (1 for a store that never applied one, as etcd). */
  get revision(): number {
    return this.meta.revision
  }

  /** Reads and watches below this revision fail as compacted (0: nothing compacted). */
  get compactRevision(): number {
    return this.meta.compactRevision
  }

  /** The history below this revision is physically deleted (<= compactRevision). */
  get physicalRevision(): number {
    return this.meta.physicalRevision
  }

  /** The number of live keys. */
  get keyCount(): number {
    return this.meta.keyCount
  }

  get appliedIndex(): number {
    return this.storage.applied.index
  }

  /** Registers a listener of applied revisions and replaced states; returns its removal. */
  listen(l: KvListener): () => void {
    this.listeners.add(l)
    return () => this.listeners.delete(l)
  }

  /**
   * Applies a committed normal entry. Entries must come in index order (conf-change entries go
   * through RaftStorage.applyConfChange, which advances the same applied index). Empty data (the
   * leader's no-op entry) only advances the applied index. An undecodable or refused request is
   * applied as a no-op and reported in `error`, identically on every replica.
   */
  apply(entry: Pick<Entry, 'index' | 'term' | 'data'> & {readonly entryType?: EntryType}): Promise<ApplyResult> {
    if (entry.entryType !== undefined && entry.entryType !== EntryType.EntryNormal) {
      throw invalid(`entry ${entry.index} is a conf change; apply it with RaftStorage.applyConfChange`)
    }
    return this.storage.exclusive(async () => {
      const {index, term} = entry
      if (index <= this.storage.applied.index) return {index, applied: false, revision: this.meta.revision}
      if (entry.data.length === 0) {
        await this.storage.commitApplied(index, term, [])
        return {index, applied: true, revision: this.meta.revision}
      }
      let req
      try {
        req = decodeInternalRequest(entry.data)
        validateRequest(req)
        if (req.compaction !== undefined) return await this.applyCompaction(index, term, req.id, req.compaction)
        return await this.execute(index, term, req.id, req)
      } catch (err) {
        if (!(err instanceof KvError) && !(err instanceof WireDecodeError)) throw err
        await this.storage.commitApplied(index, term, [])
        const e = err instanceof KvError ? err : invalid(`entry ${index}: ${err.message}`)
        return {index, applied: true, revision: this.meta.revision, requestId: req?.id, error: e}
      }
    })
  }

  /**
   * Applies a write request with the lease side of the same entry: the key/value writes, the
   * lease writes, the meta and the applied index are one batch; the lease state changes only
   * after it is written.
   */
  private async execute(index: number, term: number, requestId: number, req: ReturnType<typeof decodeInternalRequest>): Promise<ApplyResult> {
    const leases = this.leases.begin(index)
    const x = new Execution(this.db, this.storage.dir, this.meta.revision, this.meta.compactRevision, leases)
    const out = await x.run(req)
    const wrote = x.records.length > 0
    const next = wrote ? {...this.meta, revision: x.begin + 1, keyCount: this.meta.keyCount + x.countDelta} : this.meta
    const ops = [...x.ops(), ...leases.ops()]
    if (wrote) ops.push({type: 'put', key: KV_META_KEY, value: encodeMeta(next)})
    await this.storage.commitApplied(index, term, ops)
    this.meta = next
    leases.commit()
    if (wrote) this.publish(next.revision, x.events)
    return {index, applied: true, revision: next.revision, requestId, ...out}
  }

  private publish(revision: number, events: readonly Event[]): void {
    this.hub.publish(revision, events)
    for (const l of this.listeners) l.published(revision, events)
  }

  /**
   * Applies a compaction: from now on reads and watches below `revision` fail as compacted; the
   * records become deletable and the background worker deletes them. As etcd, a revision at or
   * below the current compact revision is COMPACTED and one above the store revision FUTURE.
   */
  private async applyCompaction(index: number, term: number, requestId: number, req: CompactionRequest): Promise<ApplyResult> {
    const {revision, compactRevision} = this.meta
    if (req.revision === 0 && compactRevision === 0) {
      // Nothing is compacted yet and nothing below revision 0 exists: etcd accepts it; no change.
      await this.storage.commitApplied(index, term, [])
      return {index, applied: true, revision, requestId, compaction: {header: revisionHeader(revision)}}
    }
    if (req.revision <= compactRevision) throw compacted(req.revision, compactRevision)
    if (req.revision > revision) throw futureRevision(req.revision, revision)
    const next = {...this.meta, compactRevision: req.revision}
    const ops: BatchOp[] = [{type: 'put', key: KV_META_KEY, value: encodeMeta(next)}]
    await this.storage.commitApplied(index, term, ops)
    this.meta = next
    this.compactor.kick()
    return {index, applied: true, revision, requestId, compaction: {header: revisionHeader(revision)}}
  }

  /** Resolves once this member physically deleted the history below `revision` (physical compaction). */
  waitPhysicalCompaction(revision: number): Promise<void> {
    return this.compactor.waitFor(revision)
  }

  /**
   * Reads a range at the current revision or at any revision not compacted (revision <= 0 =
   * latest), with every RangeRequest field but `serializable` (the service's business: it makes
   * the read linearizable with ReadIndex first). The iterator and the revisions are captured
   * together under the state lock, so the answer is one consistent state. The header carries
   * the store revision (as etcd, also for a read at an older revision).
   */
  async range(req: RangeRequest): Promise<RangeResponse> {
    validateRange(req)
    const r = toRange(req.key, req.rangeEnd)
    const snap = await this.storage.exclusive(() => {
      const revision = this.meta.revision
      const rev = readRevision(req.revision, revision, this.meta.compactRevision)
      const iter = isEmptyRange(r) ? undefined : rev === revision ? this.db.iterate(dbBounds(r)) : this.db.iterate(historyBounds(r))
      return {revision, rev, iter}
    })
    let kvs: KeyValue[]
    if (snap.iter === undefined) kvs = []
    else if (snap.rev === snap.revision) kvs = await collectLatest(this.storage.dir, snap.iter)
    else kvs = await collectPast({db: this.db, dir: this.storage.dir, compactRevision: () => this.meta.compactRevision}, snap.iter, snap.rev)
    return shapeRange(kvs, req, revisionHeader(snap.revision))
  }

  /**
   * Serves a txn whose ops are all reads (isReadOnlyTxn) without a proposal, as etcd does: its
   * compares and ranges see one state, the store's at the moment it runs (the state lock is
   * held for it, so no entry applies meanwhile).
   */
  txnRead(req: TxnRequest): Promise<TxnResponse> {
    validateTxn(req)
    if (!isReadOnlyTxn(req)) throw invalid('txnRead serves only txns whose operations are all ranges')
    return this.storage.exclusive(() =>
      new Execution(this.db, this.storage.dir, this.meta.revision, this.meta.compactRevision, readOnlyLeases(this.leases)).txn(req))
  }

  /** @see hashKV */
  hashKV(revision = 0): Promise<KvHash> {
    return hashKV(this, revision)
  }

  /** The events of revisions [from, to] from disk, for watches that start in the past (WatchSource). @see history */
  history(from: number, to?: number, opts: {prevKv?: boolean} = {}): AsyncIterable<RevisionEvents> {
    return history({db: this.db, dir: this.storage.dir, revision: this.meta.revision, compactRevision: this.meta.compactRevision}, from, to, opts)
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

  /** @internal The meta record the snapshot code writes and captures. */
  get currentMeta(): KvMeta {
    return this.meta
  }

  /** @internal Called by restore (under both locks) after its batch committed. */
  replaced(meta: KvMeta): void {
    this.meta = meta
    this.replacedCount += 1
    this.hub.resync()
    for (const l of this.listeners) l.replaced(meta.revision)
    this.compactor.kick()
  }

  /** Ends every watch (a `closed` item) and stops physical compaction after its batch in progress. The RaftStorage is closed by its owner. */
  async close(): Promise<void> {
    this.hub.close()
    await this.compactor.stop()
  }
}
