/**
 * etcd's Cluster service. Every change is checked on the leader against raftctl's rules
 * (membership.ts: a voter must not cost the quorum of the reachable members, at most
 * --max-learners learners, a learner is promoted only when caught up), proposed as a conf change
 * whose context carries the new member's metadata, and answered once it was applied; a member
 * that does not lead forwards the call to the leader (forward.ts). MemberList is answered by the
 * member itself: from its applied state, or after a ReadIndex with `linearizable`.
 *
 * Member ids are raftctl node ids (1..2^53-1). etcd's MemberAdd names no id: the server picks a
 * random one that no current member has (a collision with a removed member's id has probability
 * about 2^-53 per removed member). raftctl's CLI chooses the id with metadata
 * `raftctl-member-id`, and skips the quorum and catch-up checks with `raftctl-force: 1`, on
 * MemberAdd and MemberPromote. Responses carry etcd's header without a revision, as etcd's do.
 */
import {randomBytes} from 'node:crypto'
import type {Metadata} from '@grpc/grpc-js'
import {
  type ClusterServer, ClusterService, type MemberAddResponse, type MemberListResponse, type MemberPromoteResponse,
  type MemberRemoveResponse, type MemberUpdateResponse,
} from '../../../generated/etcd/etcdserverpb/cluster.js'
import {FORCE_KEY, MEMBER_ID_KEY} from '../../../raftpb/metadata.js'
import {etcdError, invalidArgument} from '../../errors.js'
import {etcdMember, etcdMembers} from '../../member_status.js'
import {checkUrls, planAdd, planPromote, planRemove, type RuleContext} from '../../membership.js'
import {membershipView} from '../../membership_view.js'
import type {RaftNode} from '../../node.js'
import {proposeConfChange, proposeMemberAttributes, readBarrier} from '../../requests.js'
import {etcdHeader, leaderUnary, requestOptions, type ServiceContext, unary} from '../common.js'

const MAX_ID = BigInt(Number.MAX_SAFE_INTEGER)

/** A member id from an etcd request: an id raftctl cannot have is no member (etcd's answer). */
export function memberId(id: bigint): number {
  if (id <= 0n || id > MAX_ID) {
    throw etcdError('memberNotFound', `member id ${id} is not a raftctl node id (an integer from 1 to 2^53-1), so no member has it`)
  }
  return Number(id)
}

/** The id chosen with `raftctl-member-id`, if any; a malformed one is refused. */
export function requestedMemberId(md: Metadata): number | undefined {
  const raw = md.get(MEMBER_ID_KEY)[0]
  if (raw === undefined) return undefined
  const text = String(raw)
  const n = /^[0-9]{1,16}$/.test(text) ? Number(text) : NaN
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw invalidArgument(`metadata ${MEMBER_ID_KEY} "${text}" is not a node id (an integer from 1 to 2^53-1)`)
  }
  return n
}

/** True when the call asks to skip the quorum and catch-up checks (`raftctl-force: 1`). */
export const forced = (md: Metadata): boolean => md.get(FORCE_KEY)[0] === '1'

/** A random node id in 1..2^53-1 that no member of `v` has. */
export function freshMemberId(v: RuleContext): number {
  for (;;) {
    const id = Number(randomBytes(8).readBigUInt64BE() % MAX_ID) + 1
    const cs = v.confState
    const taken = v.members.has(id) || [...cs.voters, ...cs.learners, ...cs.votersOutgoing, ...cs.learnersNext].includes(id)
    if (!taken) return id
  }
}

/** The members after a change, as etcd answers them. */
const members = (node: RaftNode) => etcdMembers(membershipView(node))

export function etcdClusterService(ctx: ServiceContext): ClusterServer {
  const node = ctx.node
  return {
    memberAdd: leaderUnary(ctx, ClusterService.memberAdd, 'MemberAdd', async (req, ms, call): Promise<MemberAddResponse> => {
      const v = membershipView(node)
      const id = requestedMemberId(call.metadata) ?? freshMemberId(v)
      const plan = planAdd(v, {id, name: '', peerUrls: req.peerURLs, clientUrls: [], isLearner: req.isLearner, force: forced(call.metadata)})
      const cs = await proposeConfChange(node, plan, ms, requestOptions(call.metadata))
      const added = node.storage.member(id) ?? plan.added[0]
      return {header: etcdHeader(node, 0), member: etcdMember(added, cs), members: members(node)}
    }),
    memberRemove: leaderUnary(ctx, ClusterService.memberRemove, 'MemberRemove', async (req, ms, call): Promise<MemberRemoveResponse> => {
      const plan = planRemove(membershipView(node), memberId(req.ID))
      await proposeConfChange(node, plan, ms, requestOptions(call.metadata))
      return {header: etcdHeader(node, 0), members: members(node)}
    }),
    memberUpdate: leaderUnary(ctx, ClusterService.memberUpdate, 'MemberUpdate', async (req, ms, call): Promise<MemberUpdateResponse> => {
      const id = memberId(req.ID)
      if (node.storage.member(id) === undefined) throw etcdError('memberNotFound', `node ${id} is not a member of the cluster`)
      if (req.peerURLs.length === 0) throw etcdError('memberBadUrls', `a member update of node ${id} needs at least one peer URL`)
      const peerUrls = checkUrls(`peer URL of node ${id}`, req.peerURLs)
      const clash = node.storage.members().find((m) => m.id !== id && m.peerUrls.some((u) => peerUrls.includes(u)))
      if (clash !== undefined) throw etcdError('peerUrlExists', `peer URL ${peerUrls.join(',')} is already used by node ${clash.id}`)
      await proposeMemberAttributes(node, {id, name: '', peerUrls, clientUrls: []}, ms, requestOptions(call.metadata))
      return {header: etcdHeader(node, 0), members: members(node)}
    }),
    memberList: unary(ctx, 'MemberList', async (req, ms, call): Promise<MemberListResponse> => {
      if (req.linearizable) await readBarrier(node, ms, requestOptions(call.metadata))
      return {header: etcdHeader(node, 0), members: members(node)}
    }),
    memberPromote: leaderUnary(ctx, ClusterService.memberPromote, 'MemberPromote', async (req, ms, call): Promise<MemberPromoteResponse> => {
      const id = memberId(req.ID)
      const v = membershipView(node)
      if (v.confState.voters.includes(id)) throw etcdError('memberNotLearner', `node ${id} is already a voter; there is nothing to promote`)
      const plan = planPromote(v, id, forced(call.metadata))
      if (plan !== undefined) await proposeConfChange(node, plan, ms, requestOptions(call.metadata))
      return {header: etcdHeader(node, 0), members: members(node)}
    }),
  }
}
