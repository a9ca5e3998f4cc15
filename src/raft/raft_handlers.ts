/**
 * How a follower handles the leader's messages: MsgAppend (Raft paper §5.3), MsgHeartbeat and
 * MsgSnapshot (§7). A port of etcd-io/raft v3.6 handleAppendEntries / handleHeartbeat /
 * handleSnapshot / restore.
 */
import {Changer} from './confchange/index.js'
import type {Raft} from './raft.js'
import {switchToConfig} from './raft_apply_conf.js'
import {StateRole} from './role.js'
import {ProgressTracker} from './tracker/index.js'
import {type Message, MessageType, type Snapshot} from './types.js'
import {panic} from './util.js'

/**
 * Appends the leader's entries if the log contains the entry preceding them (§5.3 consistency
 * check) and acknowledges the new last index. On a mismatch, rejects with a hint: the largest
 * (index, term) at or below m.index whose term is <= m.logTerm, which lets the leader skip a
 * whole divergent term at once (etcd's fast back-off).
 */
export function handleAppendEntries(r: Raft, m: Message): void {
  if (m.index < r.raftLog.committed) {
    r.send({to: m.from, msgType: MessageType.MsgAppendResponse, index: r.raftLog.committed})
    return
  }
  const lastNewI = r.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries)
  if (lastNewI !== undefined) {
    r.send({to: m.from, msgType: MessageType.MsgAppendResponse, index: lastNewI})
    return
  }
  // m.index >= committed here, and lastIndex >= committed, so the hint index is >= committed.
  const [hintIndex, hintTerm] = r.raftLog.findConflictByTerm(Math.min(m.index, r.raftLog.lastIndex()), m.logTerm)
  r.send({
    to: m.from, msgType: MessageType.MsgAppendResponse, index: m.index, reject: true,
    rejectHint: hintIndex, logTerm: hintTerm,
  })
}

/** Commits up to the commit index the heartbeat carries and answers with its context. */
export function handleHeartbeat(r: Raft, m: Message): void {
  r.raftLog.commitTo(m.commit)
  r.send({to: m.from, msgType: MessageType.MsgHeartbeatResponse, context: m.context})
}

/**
 * Restores the snapshot if it is newer than the commit index and names this node; answers with
 * the new last index, or else with the current commit index (DESIGN.md §2).
 */
export function handleSnapshot(r: Raft, m: Message): void {
  const s = m.snapshot
  if (s !== undefined && restore(r, s)) {
    r.send({to: m.from, msgType: MessageType.MsgAppendResponse, index: r.raftLog.lastIndex()})
  } else {
    r.send({to: m.from, msgType: MessageType.MsgAppendResponse, index: r.raftLog.committed})
  }
}

/** Whether `id` is in the ConfState: a voter (either half), a learner or a staged learner. */
function inConfState(s: Snapshot, id: number): boolean {
  const cs = s.metadata.confState
  return cs.voters.includes(id) || cs.votersOutgoing.includes(id) || cs.learners.includes(id) ||
    cs.learnersNext.includes(id)
}

/**
 * Recovers the log and configuration from a snapshot (§7). Returns false when it was ignored:
 * not newer than the commit index, this node is not in its ConfState, or the log already
 * contains the snapshot's last entry (then only the commit index is fast-forwarded).
 */
export function restore(r: Raft, s: Snapshot): boolean {
  if (s.metadata.index <= r.raftLog.committed) return false
  if (r.state !== StateRole.Follower) {
    // Defense in depth: only a follower handles snapshots.
    r.becomeFollower(r.term + 1, 0)
    return false
  }
  if (!inConfState(s, r.id)) return false
  if (r.raftLog.matchTerm(s.metadata.index, s.metadata.term)) {
    r.raftLog.commitTo(s.metadata.index)
    return false
  }
  // The configuration is rebuilt first, against a fresh tracker and the snapshot's index (the
  // log's last index once restored): a ConfState that cannot be restored throws here, before the
  // log or the tracker changed, so a refused snapshot never leaves the node half-restored.
  const fresh = new ProgressTracker(r.trk.maxInflight, r.trk.maxInflightBytes)
  const {config, progress} = new Changer(fresh, s.metadata.index).restore(s.metadata.confState)
  r.raftLog.restore(s)
  r.trk = fresh
  const cs = switchToConfig(r, config, progress)
  assertConfStatesEquivalent(s.metadata.confState, cs)
  return true
}

/** Throws if two ConfStates differ (ids compared as sets). */
export function assertConfStatesEquivalent(a: Snapshot['metadata']['confState'], b: typeof a): void {
  const key = (ids: readonly number[]): string => [...ids].sort((x, y) => x - y).join(',')
  const same = key(a.voters) === key(b.voters) && key(a.learners) === key(b.learners) &&
    key(a.votersOutgoing) === key(b.votersOutgoing) && key(a.learnersNext) === key(b.learnersNext) &&
    a.autoLeave === b.autoLeave
  if (!same) panic(`ConfStates not equivalent after sorting: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`)
}
