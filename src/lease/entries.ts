/**
 * The lease entries of the Raft log besides etcd's LeaseGrantRequest (InternalRaftRequest's
 * lease_revoke and lease_checkpoint, proto/raftctl/v1/internal.proto): building them from what
 * the Lessor or a client asks, and reading them back for apply. An entry that no raftctl member writes (a checkpoint list whose granted indexes
 * do not match its checkpoints) is refused with LEASE_INVALID_REQUEST, so it applies as a no-op.
 */
import type {LeaseCheckpointEntry, LeaseRevokeEntry} from '../generated/raftctl/v1/internal.js'
import {LeaseError} from './errors.js'
import type {LeaseId} from './id.js'
import type {Checkpoint} from './types.js'

/**
 * A revoke: a client's (grantedIndex 0: whatever lease has the id), or the leader's for an expired
 * lease (the grant's index: that lease only).
 */
export const revokeEntry = (id: LeaseId, grantedIndex = 0): LeaseRevokeEntry => ({request: {ID: id}, grantedIndex})

/** What a revoke entry revokes. */
export function revokeOf(e: LeaseRevokeEntry): {id: LeaseId, grantedIndex: number} {
  if (e.request === undefined) throw LeaseError.invalid('a lease revoke entry names no lease')
  return {id: e.request.ID, grantedIndex: e.grantedIndex}
}

/** One entry for checkpoints the Lessor handed out (checkpoints(), or a keep-alive's reset). */
export function checkpointEntry(checkpoints: readonly Checkpoint[]): LeaseCheckpointEntry {
  return {
    request: {checkpoints: checkpoints.map(({ID, remainingTTL}) => ({ID, remainingTTL}))},
    grantedIndex: checkpoints.map((c) => c.grantedIndex),
  }
}

/** The checkpoints of an entry, each with the grant it was taken for. */
export function checkpointsOf(e: LeaseCheckpointEntry): Checkpoint[] {
  const cps = e.request?.checkpoints ?? []
  if (cps.length !== e.grantedIndex.length) {
    throw LeaseError.invalid(`a lease checkpoint entry has ${cps.length} checkpoints but ${e.grantedIndex.length} granted indexes`)
  }
  return cps.map((c, i) => ({ID: c.ID, remainingTTL: c.remainingTTL, grantedIndex: e.grantedIndex[i]}))
}
