/**
 * The membership as this node sees it now — ConfState, member metadata and, when it leads, every
 * member's replication progress and reachability — for the rules of membership.ts and the member
 * lists of the Cluster and extension services.
 */
import type {RuleContext} from './membership.js'
import type {RaftNode} from './node.js'

/** The membership as `node` sees it now, with the leader's progress when it leads. */
export function membershipView(node: RaftNode): RuleContext {
  const st = node.rn.status()
  const progress = st.progress
  const leaderLastIndex = progress === undefined ? 0 : node.rn.lastIndex()
  return {
    selfId: node.id, leaderId: node.leaderId, confState: node.storage.confState,
    members: new Map(node.storage.members().map((m) => [m.id, m])),
    leaderLastIndex, progress, maxLearners: node.config.maxLearners,
    isReachable: (id) => id === node.id || progress?.get(id)?.recentActive === true ||
      node.transport.peerStats(id)?.state === 'open',
  }
}
