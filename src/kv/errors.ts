/**
 * Errors of the key/value state machine, each with a stable `code` that the server maps to a
 * gRPC status: INVALID_REQUEST (INVALID_ARGUMENT), COMPACTED and FUTURE_REVISION (OUT_OF_RANGE),
 * WATCH_CANCELED (CANCELLED / the watch's cancel_reason), SNAPSHOT_CORRUPT (DATA_LOSS).
 */
import {CodedError, withCode} from '../raft/errors.js'

export type KvErrorCode = 'INVALID_REQUEST' | 'COMPACTED' | 'FUTURE_REVISION' | 'WATCH_CANCELED'

export class KvError extends CodedError<KvErrorCode> {
  constructor(
    code: KvErrorCode,
    message: string,
    /** For COMPACTED and WATCH_CANCELED: the oldest revision a watch can start at now. */
    readonly compactRevision = 0,
  ) {
    super(code, message)
  }
}

export const invalid = (message: string): KvError => new KvError('INVALID_REQUEST', message)

/** A snapshot file or stream that is truncated, altered or not a raftctl snapshot. */
export class SnapshotFileError extends withCode(CodedError, 'SNAPSHOT_CORRUPT') {}
