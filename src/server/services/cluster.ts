/**
 * What is left of the legacy raftctl.v1 Cluster service: the leadership transfer, until etcd's
 * Maintenance.MoveLeader is served. Membership changes and the member list are etcd's Cluster
 * service and the raftctl.v1.Raftctl extension (etcd/cluster.ts, etcd/raftctl.ts), the one
 * implementation of each.
 *
 * The transfer is checked on the leader (a follower answers notLeader with the leader's client
 * URL, which the client follows), and answered once the target leads, with the member list in
 * the legacy MemberStatus record.
 */
import type {
  ClusterServer, MemberStatus as LegacyMemberStatus, TransferLeaderResponse,
} from '../../generated/raftctl/v1/cluster.js'
import type {MemberStatus} from '../../generated/raftctl/v1/raftctl.js'
import {confStateToWire} from '../../raftpb/convert.js'
import {memberStatuses} from '../member_status.js'
import {checkMemberId, checkTransferTarget, type RuleContext, transferObstacle} from '../membership.js'
import {membershipView} from '../membership_view.js'
import type {RaftNode} from '../node.js'
import {memberToWire} from '../../storage/records.js'
import {requireLeader, transferLeader} from '../requests.js'
import {header, type ServiceContext, unary} from './common.js'

/** The legacy record of a member status (same roles and progress, raftctl's Member record). */
export function legacyMemberStatus(v: RuleContext, st: MemberStatus): LegacyMemberStatus {
  const id = Number(st.member?.ID ?? 0n)
  const info = v.members.get(id) ?? {id, name: '', peerUrls: [], clientUrls: []}
  return {...st, member: memberToWire(info), role: st.role as number, progressState: st.progressState as number}
}

/** The members and ConfState the transfer answers with. */
function answer(node: RaftNode) {
  const v = membershipView(node)
  return {header: header(node), members: memberStatuses(v).map((st) => legacyMemberStatus(v, st)), confState: confStateToWire(node.storage.confState)}
}

export function clusterService(ctx: ServiceContext): ClusterServer {
  const node = ctx.node
  return {
    transferLeader: unary(ctx, 'TransferLeader', async (req, ms): Promise<TransferLeaderResponse> => {
      requireLeader(node)
      const target = checkMemberId('target id', req.targetId)
      checkTransferTarget(membershipView(node), target)
      const leader = await transferLeader(node, target, ms, () => transferObstacle(membershipView(node), target))
      return {...answer(node), leader}
    }),
  }
}
