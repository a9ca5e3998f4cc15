import type {ConfState, Entry, HardState, Snapshot} from './types.js'

/**
 * What a node recovers at start: the persisted HardState and the ConfState in force at the
 * applied index it restarts with (entries after it are applied again, conf changes included).
 */
export interface RaftState {
  readonly hardState: HardState
  readonly confState: ConfState
}

/**
 * The core's read-only view of the persisted log, as in raft-rs's `Storage` trait. The
 * application writes to its storage itself (after each Ready); the core only reads. All methods
 * are synchronous; a storage that cannot answer synchronously throws UnavailableError and the
 * core retries later (it never treats that as fatal).
 *
 * Invariant: firstIndex() - 1 is the index of the latest snapshot (or the dummy entry), and
 * term(firstIndex() - 1) is answerable; lastIndex() >= firstIndex() - 1.
 */
export interface Storage {
  /**
   * Returns the saved HardState and the ConfState in force after entry `applied`: the applied
   * index the node restarts with (Config.applied, or the snapshot index firstIndex() - 1 when
   * that is 0). Called once when a RawNode is created. A storage that persists its ConfState
   * with its applied index in one write (as the server's does) has one answer, for that index.
   */
  initialState(applied?: number): RaftState
  /**
   * Returns entries in [lo, hi). `maxSize` (bytes of data + context, undefined = no limit) limits
   * the total, but at least one entry is returned when lo < hi. Throws CompactedError when
   * lo < firstIndex(), and an Error when hi > lastIndex() + 1.
   */
  entries(lo: number, hi: number, maxSize?: number): Entry[]
  /**
   * Returns the term of entry i, for i in [firstIndex() - 1, lastIndex()]. Throws CompactedError
   * below that range and UnavailableError above it.
   */
  term(i: number): number
  /** Index of the first entry still available in the log (snapshot index + 1). */
  firstIndex(): number
  /** Index of the last entry in the log. */
  lastIndex(): number
  /**
   * Returns the most recent snapshot. `requestIndex` is the least index the snapshot must cover
   * and `to` the peer it is for; a storage that is still building one throws UnavailableError.
   */
  snapshot(requestIndex: number, to: number): Snapshot
}
