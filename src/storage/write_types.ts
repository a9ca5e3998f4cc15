/**
 * Input and helper types of RaftStorage's writes.
 */
import type {BatchOp} from './db.js'
import type {ConfState, Entry, HardState, Snapshot} from '../raft/types.js'
import type {MemberInfo} from './records.js'

/** What one Ready asks to persist. */
export interface PersistInput {
  readonly entries?: readonly Entry[]
  readonly hardState?: HardState
  readonly snapshot?: Snapshot
}

/** Membership changes applied together with an entry (conf-change entries, snapshots). */
export interface MembershipChange {
  readonly confState?: ConfState
  readonly putMembers?: readonly MemberInfo[]
  readonly removeMembers?: readonly number[]
}

/** Something that accepts batch operations: an array of BatchOp or a ChainedBatch. */
export interface BatchSink {
  put(key: Uint8Array, value: Uint8Array): void
  del(key: Uint8Array): void
}

/** Default number of entries kept before the compaction point. */
export const DEFAULT_COMPACT_TRAILING = 10_000

/** Collects operations into a BatchOp array. */
export class OpList implements BatchSink {
  readonly ops: BatchOp[] = []
  put(key: Uint8Array, value: Uint8Array): void {
    this.ops.push({type: 'put', key, value})
  }
  del(key: Uint8Array): void {
    this.ops.push({type: 'del', key})
  }
}
