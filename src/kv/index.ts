/** The replicated key/value state machine: apply, reads, watches, snapshots. */
export * from './errors.js'
export * from './range.js'
export {encodeInternalRequest, decodeInternalRequest, type KvMeta} from './codec.js'
export {validateRequest, validateRange, validateTxn, validateCompare, MAX_TXN_DEPTH, MAX_TXN_OPS} from './validate.js'
export {compareKv} from './exec.js'
export {Watcher, type WatchBatch} from './watch.js'
export {
  SNAPSHOT_MAGIC, SNAPSHOT_FORMAT_VERSION, encodeSnapshotFile, type SnapshotHeaderInfo,
} from './snapshot_format.js'
export {
  parseSnapshot, verifySnapshot, inspectSnapshotFile, fileChunks, type SnapshotItem,
  type SnapshotInspection,
} from './snapshot_reader.js'
export {type SnapshotExport, type SnapshotInfo, writeFileAtomic, pruneSnapshots} from './snapshots.js'
export {restingPacer, type SnapshotPacer} from './snapshot_pace.js'
export * from './store.js'
export {hashKv, type KvHash} from './hash.js'
