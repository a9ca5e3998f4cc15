/**
 * Errors of the storage layer. Each names the data directory and what was wrong, so an operator
 * reading one line knows which node, which file and which record to look at. None of them is
 * ever swallowed: a node that meets one stops.
 */

/** Base class; `code` is stable for callers that map errors (the server, the CLI). */
export class StorageError extends Error {
  constructor(readonly code: string, message: string) {
    super(message)
    this.name = new.target.name
  }
}

/** A record read from RocksDB does not decode or breaks an invariant of the layout. */
export class StorageCorruptError extends StorageError {
  constructor(readonly dataDir: string, readonly key: string, problem: string) {
    super('STORAGE_CORRUPT', `data dir ${dataDir}: record ${key} is corrupt: ${problem}`)
  }
}

/** The data dir belongs to another cluster or another node. */
export class ForeignDataDirError extends StorageError {
  constructor(dataDir: string, detail: string) {
    super('FOREIGN_DATA_DIR', `data dir ${dataDir} belongs to ${detail}; refusing to open it`)
  }
}

/** The data dir is missing, not initialized, or otherwise unusable. */
export class DataDirError extends StorageError {
  constructor(message: string) {
    super('DATA_DIR', message)
  }
}

/** A write was refused because its input breaks an invariant (a gap in the log, ...). */
export class StorageMisuseError extends StorageError {
  constructor(message: string) {
    super('STORAGE_MISUSE', message)
  }
}
