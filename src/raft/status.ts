/**
 * A read-only picture of a node for operators, tests and the server (etcd-io/raft Status).
 */
import type {Raft} from './raft.js'
import {StateRole} from './role.js'
import type {ProgressState} from './tracker/index.js'
import type {ConfState} from './types.js'

/** A copy of the leader's view of one peer's replication. */
export interface ProgressStatus {
  readonly match: number
  readonly next: number
  readonly state: ProgressState
  readonly isLearner: boolean
  readonly pendingSnapshot: number
  readonly recentActive: boolean
  readonly paused: boolean
  readonly inflight: number
}

export interface Status {
  readonly id: number
  readonly term: number
  readonly vote: number
  readonly commit: number
  readonly applied: number
  readonly role: StateRole
  readonly leaderId: number
  /** The leadership transfer target while one is in progress, else 0. */
  readonly leadTransferee: number
  /** Per-peer progress; present only on the leader. */
  readonly progress?: ReadonlyMap<number, ProgressStatus>
  readonly confState: ConfState
}

/** Takes a Status of `r`; the result does not change as `r` does. */
export function getStatus(r: Raft): Status {
  const base = {
    id: r.id, term: r.term, vote: r.vote, commit: r.raftLog.committed, applied: r.raftLog.applied,
    role: r.state, leaderId: r.lead, leadTransferee: r.leadTransferee, confState: r.trk.confState(),
  }
  if (r.state !== StateRole.Leader) return base
  const progress = new Map<number, ProgressStatus>()
  r.trk.visit((id, pr) => {
    progress.set(id, {
      match: pr.match, next: pr.next, state: pr.state, isLearner: pr.isLearner,
      pendingSnapshot: pr.pendingSnapshot, recentActive: pr.recentActive, paused: pr.isPaused(),
      inflight: pr.inflights.count(),
    })
  })
  return {...base, progress}
}
