/**
 * The member list as raftctl's client shows it (Membership): every member's etcd record, its role
 * in the ConfState and — when the leader answered — its replication progress, plus the ConfState.
 *
 * It is assembled from three calls, so that it is answered with or without a leader:
 * - the extension's NodeStatus of some member: which leader that member knows, and its ConfState;
 * - with a leader known: the extension's MemberProgress, which every member forwards to the
 *   leader, the only node that knows each member's progress;
 * - otherwise (or when the leader cannot be asked): etcd's MemberList joined with that member's
 *   ConfState: roles are known, progress is not (PROGRESS_UNKNOWN, zeros).
 *
 * Members are given in raftctl's terms (MemberInfo): the node id as a number (etcd's records
 * carry a 64-bit bigint; raftctl's ids are below 2^53) and addresses as host:port, as raftctl's
 * flags take them (etcd's records show `http://host:port`).
 */
import type {Member} from '../generated/etcd/etcdserverpb/cluster.js'
import type {ResponseHeader} from '../generated/etcd/etcdserverpb/header.js'
import type {ConfState} from '../generated/eraftpb.js'
import {type MemberStatus as WireMemberStatus, MemberStatus_ProgressState, MemberStatus_Role} from '../generated/raftctl/v1/raftctl.js'

/** One member's record in raftctl's terms. An empty name: the node has not started yet. */
export interface MemberInfo {
  readonly id: number
  readonly name: string
  /** host:port addresses. */
  readonly peerUrls: string[]
  readonly clientUrls: string[]
  readonly isLearner: boolean
}

/** The extension's MemberStatus with the member record in raftctl's terms. */
export type MemberStatus = Omit<WireMemberStatus, 'member'> & {readonly member: MemberInfo | undefined}

/** The members and the ConfState after a change of the extension service (the leader's answer). */
export interface MembershipChange {
  readonly header: ResponseHeader | undefined
  readonly members: MemberStatus[]
  readonly confState: ConfState | undefined
}

/** The member list with roles, progress (from the leader) and the ConfState. */
export interface Membership extends MembershipChange {
  /** The leader's node id; 0 when the answering member knows none. */
  readonly leader: number
  /** True when the leader answered, so the progress fields are known. */
  readonly fromLeader: boolean
}

/** The role of `id` in `cs`, as the server assigns it (src/server/member_status.ts roleOf). */
export function roleIn(cs: ConfState | undefined, id: number): MemberStatus_Role {
  if (cs === undefined) return MemberStatus_Role.ROLE_UNSPECIFIED
  if (cs.voters.includes(id)) return MemberStatus_Role.VOTER
  if (cs.learners.includes(id)) return MemberStatus_Role.LEARNER
  if (cs.learnersNext.includes(id)) return MemberStatus_Role.LEARNER_NEXT
  if (cs.votersOutgoing.includes(id)) return MemberStatus_Role.OUTGOING_VOTER
  return MemberStatus_Role.ROLE_UNSPECIFIED
}

/** An address as raftctl's flags take it: `http://host:port` (etcd's form) becomes host:port. */
export const hostPort = (url: string): string => url.replace(/^https?:\/\//, '')

/** etcd's member record in raftctl's terms. */
export function memberInfo(m: Member): MemberInfo {
  return {id: Number(m.ID), name: m.name, peerUrls: m.peerURLs.map(hostPort), clientUrls: m.clientURLs.map(hostPort), isLearner: m.isLearner}
}

/** An answer of the extension's membership calls in raftctl's terms. */
export function membershipChange(r: {header: ResponseHeader | undefined, members: readonly WireMemberStatus[], confState: ConfState | undefined}): MembershipChange {
  return {header: r.header, members: statuses(r.members), confState: r.confState}
}

/** The extension's member statuses in raftctl's terms. */
export function statuses(members: readonly WireMemberStatus[]): MemberStatus[] {
  return members.map((s) => ({...s, member: s.member === undefined ? undefined : memberInfo(s.member)}))
}

/**
 * etcd's member records joined with a member's ConfState and the leader it knows: roles and the
 * leader mark, progress unknown.
 */
export function withoutProgress(members: readonly Member[], cs: ConfState | undefined, leader: number): MemberStatus[] {
  return members.map((m) => ({
    member: memberInfo(m), role: roleIn(cs, Number(m.ID)), isLeader: leader !== 0 && Number(m.ID) === leader,
    matchIndex: 0, nextIndex: 0, progressState: MemberStatus_ProgressState.PROGRESS_UNKNOWN, lag: 0, recentActive: false,
  }))
}
