/**
 * The PeerInfo service on the peer address (proto/raftctl/v1/internal.proto): tells a node that
 * is about to join with --initial-cluster-state existing which cluster this is and who its
 * members are, and a node checking whether it still belongs (peer_check.ts) the same, with the
 * applied index that membership is from (read together: they are written in one batch).
 */
import type {IdentifyResponse, PeerInfoServer} from '../../generated/raftctl/v1/internal.js'
import {confStateToWire} from '../../raftpb/convert.js'
import {memberToWire} from '../../storage/index.js'
import type {RaftNode} from '../node.js'
import {type ServiceContext, unary} from './common.js'

export function peerInfoService(ctx: ServiceContext): PeerInfoServer {
  const node: RaftNode = ctx.node
  return {
    identify: unary(ctx, 'Identify', async (req): Promise<IdentifyResponse> => {
      node.log.debug({event: 'identify', asker: req.nodeId}, `node ${req.nodeId} asked who this cluster is`)
      return {
        clusterId: node.clusterId, nodeId: node.id,
        members: {members: node.storage.members().map(memberToWire)},
        confState: confStateToWire(node.storage.confState), appliedIndex: node.storage.applied.index,
      }
    }),
  }
}
