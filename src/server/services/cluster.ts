/**
 * The Cluster service. Every change is checked against the rules of membership.ts on the leader
 * (a follower answers notLeader), proposed as a ConfChangeV2 whose context carries the new
 * members' metadata, and answered only after it was applied, with the resulting ConfState and
 * member list. A change the core refuses (another change pending, a joint configuration not yet
 * left, an invalid change) comes back as FAILED_PRECONDITION, never as silent success.
 */
import {status} from '@grpc/grpc-js'
import type {
  ClusterServer, LeaveJointResponse, MemberAddResponse, MemberChangeResponse, MemberDemoteResponse,
  MemberListResponse, MemberPromoteResponse, MemberRemoveResponse, MemberStatus as LegacyMemberStatus,
  MemberUpdateResponse, TransferLeaderResponse,
} from '../../generated/raftctl/v1/cluster.js'
import type {MemberStatus} from '../../generated/raftctl/v1/raftctl.js'
import {type ConfState, LEAVE_JOINT} from '../../raft/index.js'
import {confStateToWire} from '../../raftpb/convert.js'
import {ETCD_ERRORS, invalidArgument, NodeError, notFound} from '../errors.js'
import {memberStatus, memberStatuses} from '../member_status.js'
import {
  checkLeaveJoint, checkMemberId, checkTransferTarget, checkUrls, planAdd, planChange, planDemote, planPromote, planRemove,
  type PlannedChange, type RuleContext, transferObstacle,
} from '../membership.js'
import {membershipView} from '../membership_view.js'
import type {RaftNode} from '../node.js'
import {memberToWire} from '../../storage/records.js'
import {
  proposeConfChange, proposeMemberAttributes, readBarrier, requireLeader, transferLeader,
} from '../requests.js'
import {header, type ServiceContext, unary} from './common.js'

/** The legacy record of a member status (same roles and progress, raftctl's Member record). */
function legacy(v: RuleContext, st: MemberStatus): LegacyMemberStatus {
  const id = Number(st.member?.ID ?? 0n)
  const info = v.members.get(id) ?? {id, name: '', peerUrls: [], clientUrls: []}
  return {...st, member: memberToWire(info), role: st.role as number, progressState: st.progressState as number}
}

/** The fields every Cluster response shares. */
function answer(node: RaftNode, cs: ConfState = node.storage.confState) {
  const v = membershipView(node)
  return {header: header(node), members: memberStatuses(v).map((st) => legacy(v, st)), confState: confStateToWire(cs)}
}

async function apply(node: RaftNode, plan: PlannedChange, ms: number): Promise<ConfState> {
  return proposeConfChange(node, plan, ms, {leaderOnly: true})
}

/**
 * This service's former answers to the refusals that now carry etcd's code and text: its
 * sentence as the message, and its former code (a refused change was FAILED_PRECONDITION, a
 * taken id or URL ALREADY_EXISTS), which its client expects.
 */
function legacyRefusal(err: unknown): unknown {
  if (!(err instanceof NodeError) || err.detail === undefined) return err
  const taken = err.message === ETCD_ERRORS.memberExists.message || err.message === ETCD_ERRORS.peerUrlExists.message
  const code = taken ? status.ALREADY_EXISTS : err.grpcCode === status.UNAVAILABLE ? status.FAILED_PRECONDITION : err.grpcCode
  return new NodeError(code, err.detail, undefined, err.retrySafe)
}

const legacyUnary: typeof unary = (ctx, name, fn) =>
  unary(ctx, name, (req, ms, call) => fn(req, ms, call).catch((err: unknown) => { throw legacyRefusal(err) }))

/** A new member's name: the one given, else `node<id>` (this service's default). */
const nameOr = (name: string, id: number): string => name !== '' ? name : `node${id}`

export function clusterService(ctx: ServiceContext): ClusterServer {
  const node = ctx.node
  const unary = legacyUnary
  return {
    memberAdd: unary(ctx, 'MemberAdd', async (req, ms): Promise<MemberAddResponse> => {
      requireLeader(node)
      const cs = await apply(node, planAdd(membershipView(node), {...req, name: nameOr(req.name, req.id)}), ms)
      return {...answer(node, cs), member: legacy(membershipView(node), memberStatus(membershipView(node), req.id))}
    }),
    memberPromote: unary(ctx, 'MemberPromote', async (req, ms): Promise<MemberPromoteResponse> => {
      requireLeader(node)
      const plan = planPromote(membershipView(node), req.id, req.force)
      const cs = plan === undefined ? node.storage.confState : await apply(node, plan, ms)
      return {...answer(node, cs), member: legacy(membershipView(node), memberStatus(membershipView(node), req.id)), message: plan === undefined ? 'already a voter' : ''}
    }),
    memberDemote: unary(ctx, 'MemberDemote', async (req, ms): Promise<MemberDemoteResponse> => {
      requireLeader(node)
      const plan = planDemote(membershipView(node), req.id)
      const cs = plan === undefined ? node.storage.confState : await apply(node, plan, ms)
      return {...answer(node, cs), member: legacy(membershipView(node), memberStatus(membershipView(node), req.id))}
    }),
    memberRemove: unary(ctx, 'MemberRemove', async (req, ms): Promise<MemberRemoveResponse> => {
      requireLeader(node)
      return answer(node, await apply(node, planRemove(membershipView(node), req.id), ms))
    }),
    memberUpdate: unary(ctx, 'MemberUpdate', async (req, ms): Promise<MemberUpdateResponse> => {
      requireLeader(node)
      const id = checkMemberId('member id', req.id)
      if (node.storage.member(id) === undefined) throw notFound(`node ${id} is not a member of the cluster`)
      if (req.peerUrls.length === 0 && req.clientUrls.length === 0) {
        throw invalidArgument('a member update needs new peer URLs or client URLs')
      }
      const peerUrls = checkUrls(`peer URL of node ${id}`, req.peerUrls)
      const clash = node.storage.members().find((m) => m.id !== id && m.peerUrls.some((u) => peerUrls.includes(u)))
      if (clash !== undefined) throw new NodeError(status.ALREADY_EXISTS, `peer URL ${peerUrls.join(',')} is already used by node ${clash.id}`)
      await proposeMemberAttributes(node, {id, name: '', peerUrls, clientUrls: checkUrls(`client URL of node ${id}`, req.clientUrls)}, ms, {leaderOnly: true})
      return {...answer(node), member: legacy(membershipView(node), memberStatus(membershipView(node), id))}
    }),
    memberChange: unary(ctx, 'MemberChange', async (req, ms): Promise<MemberChangeResponse> => {
      requireLeader(node)
      const changes = req.changes.map((c) => ({...c, name: nameOr(c.name, c.id)}))
      return answer(node, await apply(node, planChange(membershipView(node), {...req, changes}), ms))
    }),
    leaveJoint: unary(ctx, 'LeaveJoint', async (_req, ms): Promise<LeaveJointResponse> => {
      requireLeader(node)
      checkLeaveJoint(membershipView(node))
      return answer(node, await apply(node, {cc: LEAVE_JOINT, added: []}, ms))
    }),
    memberList: unary(ctx, 'MemberList', async (req, ms): Promise<MemberListResponse> => {
      if (req.linearizable) await readBarrier(node, ms)
      return answer(node)
    }),
    transferLeader: unary(ctx, 'TransferLeader', async (req, ms): Promise<TransferLeaderResponse> => {
      requireLeader(node)
      const target = checkMemberId('target id', req.targetId)
      checkTransferTarget(membershipView(node), target)
      const leader = await transferLeader(node, target, ms, () => transferObstacle(membershipView(node), target))
      return {...answer(node), leader}
    }),
  }
}
