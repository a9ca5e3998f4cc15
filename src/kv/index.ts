/** The replicated key/value state machine: MVCC apply, reads, history, compaction, watches, snapshots. */
export * from './errors.js'
export * from './range.js'
export {encodeInternalRequest, decodeInternalRequest, INITIAL_META, type KvMeta} from './codec.js'
export {
  validateRequest, validateRange, validatePut, validateDeleteRange, validateTxn, isReadOnlyTxn,
  DEFAULT_MAX_TXN_OPS, MAX_TXN_DEPTH,
} from './validate.js'
export {compareKv, readRevision, revisionHeader} from './exec.js'
export {type KvHash} from './hash.js'
export {type RevisionEvents} from './history.js'
export {type CompactionOptions} from './compaction.js'
export {WatchHub, type WatchHubOptions, type WatchItem, type WatchSource, type WatchSpec, Watcher, watchKeyRange} from './watch/index.js'
export {
  SNAPSHOT_MAGIC, SNAPSHOT_FORMAT_VERSION, encodeSnapshotFile, type SnapshotHeaderInfo, type SnapshotRecord,
} from './snapshot_format.js'
export {
  parseSnapshot, verifySnapshot, inspectSnapshotFile, fileChunks, type SnapshotItem,
  type SnapshotInspection,
} from './snapshot_reader.js'
export {type SnapshotExport, type SnapshotInfo, writeFileAtomic, pruneSnapshots} from './snapshots.js'
export {restingPacer, type SnapshotPacer} from './snapshot_pace.js'
export {etcdSizedSnapshot, type EtcdSizedSnapshot} from './snapshot_pad.js'
export * from './store.js'
