/**
 * The member list as clients see it: member metadata as etcd's Member record (is_learner from
 * the ConfState), joined with the ConfState role and, when this node leads, the leader's
 * replication progress of each member (MemberStatus in proto/raftctl/v1/raftctl.proto).
 *
 * URLs are stored as host:port; etcd's records show them as URLs, so they are answered as
 * `http://host:port` (raftctl's listeners speak plain-text gRPC).
 */
import type {Member} from '../generated/etcd/etcdserverpb/cluster.js'
import {type MemberStatus, MemberStatus_ProgressState, MemberStatus_Role} from '../generated/raftctl/v1/raftctl.js'
import {type ConfState, type ProgressStatus, ProgressState} from '../raft/index.js'
import type {MemberInfo} from '../storage/records.js'

/** What the member list is computed from. */
export interface MembershipView {
  readonly selfId: number
  readonly leaderId: number
  readonly confState: ConfState
  /** Member metadata by id (may lack a member whose metadata never arrived). */
  readonly members: ReadonlyMap<number, MemberInfo>
  /** The leader's last log index; 0 when this node is not the leader. */
  readonly leaderLastIndex: number
  /** Per-member progress; present only when this node is the leader. */
  readonly progress?: ReadonlyMap<number, ProgressStatus>
  /** Whether the leader can currently reach `id` (always true for itself). */
  readonly isReachable: (id: number) => boolean
}

/** Every id named anywhere in the ConfState, ascending. */
export function confStateIds(cs: ConfState): number[] {
  return [...new Set([...cs.voters, ...cs.learners, ...cs.votersOutgoing, ...cs.learnersNext])].sort((a, b) => a - b)
}

/** True when the ConfState is joint (an outgoing voter set exists). */
export const isJoint = (cs: ConfState): boolean => cs.votersOutgoing.length > 0

/** The role of `id` in `cs` (see MemberStatus.Role). */
export function roleOf(cs: ConfState, id: number): MemberStatus_Role {
  if (cs.voters.includes(id)) return MemberStatus_Role.VOTER
  if (cs.learners.includes(id)) return MemberStatus_Role.LEARNER
  if (cs.learnersNext.includes(id)) return MemberStatus_Role.LEARNER_NEXT
  if (cs.votersOutgoing.includes(id)) return MemberStatus_Role.OUTGOING_VOTER
  return MemberStatus_Role.ROLE_UNSPECIFIED
}

const PROGRESS_STATE: Record<ProgressState, MemberStatus_ProgressState> = {
  [ProgressState.Probe]: MemberStatus_ProgressState.PROBE,
  [ProgressState.Replicate]: MemberStatus_ProgressState.REPLICATE,
  [ProgressState.Snapshot]: MemberStatus_ProgressState.SNAPSHOT,
}

/** A stored address (host:port) as etcd shows a URL. */
export const addressUrl = (address: string): string => `http://${address}`

/**
 * etcd's record of a member: a learner is one in the ConfState's learners (a voter being demoted
 * within a joint configuration still votes, so it is not). An empty name: not started yet.
 */
export function etcdMember(info: MemberInfo, cs: ConfState): Member {
  return {
    ID: BigInt(info.id), name: info.name, peerURLs: info.peerUrls.map(addressUrl), clientURLs: info.clientUrls.map(addressUrl),
    isLearner: cs.learners.includes(info.id),
  }
}

/** Every member as etcd lists it: those in the ConfState and those with metadata only, ascending by id. */
export function etcdMembers(v: MembershipView): Member[] {
  return memberIds(v).map((id) => etcdMember(v.members.get(id) ?? {id, name: '', peerUrls: [], clientUrls: []}, v.confState))
}

function memberIds(v: MembershipView): number[] {
  return [...new Set([...confStateIds(v.confState), ...v.members.keys()])].sort((a, b) => a - b)
}

/** The status of one member; metadata falls back to the id alone when none is known. */
export function memberStatus(v: MembershipView, id: number): MemberStatus {
  const info = v.members.get(id) ?? {id, name: '', peerUrls: [], clientUrls: []}
  const pr = v.progress?.get(id)
  const base: MemberStatus = {
    member: etcdMember(info, v.confState), role: roleOf(v.confState, id), isLeader: id === v.leaderId,
    matchIndex: 0, nextIndex: 0, progressState: MemberStatus_ProgressState.PROGRESS_UNKNOWN, lag: 0,
    recentActive: false,
  }
  if (pr === undefined) return base
  const match = id === v.selfId ? v.leaderLastIndex : pr.match
  return {
    ...base, matchIndex: match, nextIndex: pr.next, progressState: PROGRESS_STATE[pr.state],
    lag: Math.max(0, v.leaderLastIndex - match), recentActive: id === v.selfId || v.isReachable(id),
  }
}

/** Every member: those in the ConfState and those with metadata only, ascending by id. */
export function memberStatuses(v: MembershipView): MemberStatus[] {
  return memberIds(v).map((id) => memberStatus(v, id))
}
