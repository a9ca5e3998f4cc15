/**
 * Builds a Raft node from a Config and a Storage (etcd-io/raft v3.6 newRaft): restores the
 * configuration from the storage's ConfState, the term, vote and commit index from its
 * HardState, and the applied index from the config; the node starts as a follower.
 */
import {type Config, validateConfig} from './config.js'
import {Changer} from './confchange/index.js'
import {ConfigInvalidError} from './errors.js'
import {Raft, type RoleSteps} from './raft.js'
import {switchToConfig} from './raft_apply_conf.js'
import {assertConfStatesEquivalent} from './raft_handlers.js'
import {stepCandidate} from './step_candidate.js'
import {stepFollower} from './step_follower.js'
import {stepLeader} from './step_leader.js'
import type {Storage} from './storage.js'
import {isEmptyHardState} from './util.js'

/** The step functions of the three roles. */
export const ROLE_STEPS: RoleSteps = Object.freeze({
  follower: stepFollower,
  candidate: stepCandidate,
  leader: stepLeader,
})

/**
 * Creates a Raft node. Throws ConfigInvalidError for an invalid config or an applied index
 * outside [0, committed].
 */
export function newRaft(config: Config, storage: Storage): Raft {
  const c = validateConfig(config)
  const {hardState, confState} = storage.initialState(c.applied > 0 ? c.applied : storage.firstIndex() - 1)
  const r = new Raft(c, storage, ROLE_STEPS)
  const {config: cfg, progress} = new Changer(r.trk, r.raftLog.lastIndex()).restore(confState)
  assertConfStatesEquivalent(confState, switchToConfig(r, cfg, progress))
  if (!isEmptyHardState(hardState)) r.loadState(hardState)
  if (c.applied > 0) {
    if (c.applied > r.raftLog.committed || c.applied < r.raftLog.applied) {
      throw new ConfigInvalidError(`config.applied (${c.applied}) is outside ` +
        `[${r.raftLog.applied}, ${r.raftLog.committed}] (snapshot index, committed index in storage)`)
    }
    r.raftLog.appliedTo(c.applied)
  }
  r.becomeFollower(r.term, 0)
  return r
}
