/**
 * raftctl's extension service (proto/raftctl/v1/raftctl.proto): what etcd's API cannot express.
 * Membership changes follow the same path as etcd's Cluster calls (cluster.ts): checked on the
 * leader against membership.ts's rules, forwarded there from any other member, proposed as a
 * conf change and answered once applied, with every member's status and the ConfState.
 * MemberProgress is answered by the leader, the only node that knows each member's progress;
 * NodeStatus by the node asked.
 */
import type {ConfState} from '../../../raft/index.js'
import {
  type LeaveJointResponse, type MemberChangeResponse, type MemberDemoteResponse, type MemberProgressResponse,
  type NodeStatusResponse, type RaftctlServer, RaftctlService,
} from '../../../generated/raftctl/v1/raftctl.js'
import {LEAVE_JOINT} from '../../../raft/index.js'
import {confStateToWire} from '../../../raftpb/convert.js'
import {memberStatuses} from '../../member_status.js'
import {checkLeaveJoint, checkMemberId, planChange, planDemote} from '../../membership.js'
import {membershipView} from '../../membership_view.js'
import type {RaftNode} from '../../node.js'
import {nodeStatus} from '../../node_status.js'
import {proposeConfChange} from '../../requests.js'
import {etcdHeader, leaderUnary, requestOptions, type ServiceContext, unary} from '../common.js'

/** Every member's status and the ConfState, as membership responses carry them. */
function membership(node: RaftNode, cs: ConfState = node.storage.confState) {
  return {header: etcdHeader(node, 0), members: memberStatuses(membershipView(node)), confState: confStateToWire(cs)}
}

export function raftctlService(ctx: ServiceContext): RaftctlServer {
  const node = ctx.node
  return {
    memberDemote: leaderUnary(ctx, RaftctlService.memberDemote, 'MemberDemote', async (req, ms, call): Promise<MemberDemoteResponse> => {
      const plan = planDemote(membershipView(node), checkMemberId('member id', req.id))
      const cs = plan === undefined ? node.storage.confState : await proposeConfChange(node, plan, ms, requestOptions(call.metadata))
      return membership(node, cs)
    }),
    memberChange: leaderUnary(ctx, RaftctlService.memberChange, 'MemberChange', async (req, ms, call): Promise<MemberChangeResponse> => {
      const plan = planChange(membershipView(node), req)
      return membership(node, await proposeConfChange(node, plan, ms, requestOptions(call.metadata)))
    }),
    leaveJoint: leaderUnary(ctx, RaftctlService.leaveJoint, 'LeaveJoint', async (_req, ms, call): Promise<LeaveJointResponse> => {
      checkLeaveJoint(membershipView(node))
      return membership(node, await proposeConfChange(node, {cc: LEAVE_JOINT, added: []}, ms, requestOptions(call.metadata)))
    }),
    memberProgress: leaderUnary(ctx, RaftctlService.memberProgress, 'MemberProgress', async (): Promise<MemberProgressResponse> => {
      const v = membershipView(node)
      return {...membership(node), leader: node.id, leaderLastIndex: v.leaderLastIndex}
    }),
    nodeStatus: unary(ctx, 'NodeStatus', async (): Promise<NodeStatusResponse> =>
      ({header: etcdHeader(node, node.kv.revision), ...await nodeStatus(node)})),
  }
}
