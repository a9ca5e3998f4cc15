/**
 * Errors of the storage layer. Each names the data directory and what was wrong, so an operator
 * reading one line knows which node, which file and which record to look at. None of them is
 * ever swallowed: a node that meets one stops.
 */

import {CodedError, withCode} from '../raft/errors.js'

/** Base class; `code` is stable for callers that map errors (the server, the CLI). */
export class StorageError extends CodedError {}

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
export class DataDirError extends withCode(StorageError, 'DATA_DIR') {}

/**
 * The data dir was written by an older raftctl in a storage format this one does not read
 * (format 1: keys without MVCC history). Nothing is migrated or reset.
 */
export class OldFormatError extends StorageError {
  constructor(dataDir: string, version: number) {
    super('OLD_FORMAT', `data dir ${dataDir} has storage format ${version} (written by a raftctl without MVCC history); ` +
      'this raftctl needs format 2 and does not convert it: start this node with a new --data-dir so that it joins ' +
      'the cluster and receives the data, or restore a snapshot taken by this raftctl (raftctl snapshot restore)')
  }
}

/** A write was refused because its input breaks an invariant (a gap in the log, ...). */
export class StorageMisuseError extends withCode(StorageError, 'STORAGE_MISUSE') {}

/** A failure caused by the file system under the data dir rather than by raftctl's data. */
export type DiskFault = 'disk-full' | 'read-only' | 'permission'

/** How each fault shows in errno codes and RocksDB's messages, said in words, and what to do. */
const DISK_FAULTS: ReadonlyArray<readonly [DiskFault, RegExp, string, string]> = [
  ['disk-full', /\bENOSPC\b|No space left on device|\bEDQUOT\b|quota exceeded/i,
    'the file system is full', 'free space on it, then try again'],
  ['read-only', /\bEROFS\b|Read-only file system/i, 'the file system is read-only', 'make it writable, then try again'],
  ['permission', /\bEACCES\b|\bEPERM\b|Permission denied|Operation not permitted/i,
    'permission is denied', 'give the user running raftctl write access to it, then try again'],
]

/** The disk fault an error (its errno code or message) shows, or undefined for any other failure. */
export function diskFaultOf(err: unknown): DiskFault | undefined {
  const e = err as {code?: unknown, message?: unknown}
  const text = `${typeof e?.code === 'string' ? e.code : ''} ${typeof e?.message === 'string' ? e.message : String(err)}`
  return DISK_FAULTS.find(([, re]) => re.test(text))?.[0]
}

/**
 * A write (or the open) of a data dir failed because its file system is full, read-only or not
 * writable by this user. Nothing was written by the failed operation (RocksDB batches are atomic,
 * snapshot files are written to a temporary name first), so the node stops and can be started
 * again once the fault is fixed. `what` names the operation and the data dir or file.
 */
export class DiskFaultError extends StorageError {
  constructor(readonly fault: DiskFault, what: string, detail: string) {
    const [, , phrase, hint] = DISK_FAULTS.find(([f]) => f === fault)!
    super('DISK_FAULT', `${what} failed: ${phrase} (${detail}); ${hint}`)
  }
}

/** Returns a DiskFaultError for `err` when it is a disk fault, else `err` itself. */
export function asDiskFault(err: unknown, what: string): unknown {
  const fault = diskFaultOf(err)
  return fault === undefined ? err : new DiskFaultError(fault, what, err instanceof Error ? err.message : String(err))
}
