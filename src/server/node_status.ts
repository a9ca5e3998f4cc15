/**
 * What a node tells about itself beyond etcd's Maintenance.Status (the extension's NodeStatus):
 * its Raft state and role, log indexes, peer connections, the size of its database, and the
 * problems an operator should know about, in sentences.
 */
import {readdir, stat} from 'node:fs/promises'
import {join} from 'node:path'
import {MemberStatus_Role, type NodeStatusResponse, NodeStatusResponse_RaftState, type PeerConnection} from '../generated/raftctl/v1/raftctl.js'
import {StateRole} from '../raft/index.js'
import {confStateToWire} from '../raftpb/convert.js'
import {roleOf} from './member_status.js'
import type {RaftNode} from './node.js'
import {RAFTCTL_VERSION} from './version.js'

const RAFT_STATE: Record<StateRole, NodeStatusResponse_RaftState> = {
  [StateRole.Follower]: NodeStatusResponse_RaftState.FOLLOWER,
  [StateRole.Candidate]: NodeStatusResponse_RaftState.CANDIDATE,
  [StateRole.Leader]: NodeStatusResponse_RaftState.LEADER,
  [StateRole.PreCandidate]: NodeStatusResponse_RaftState.PRE_CANDIDATE,
}

/** The size in bytes of the files of a directory tree. */
async function dirSize(dir: string): Promise<number> {
  let total = 0
  for (const e of await readdir(dir, {withFileTypes: true}).catch(() => [])) {
    const p = join(dir, e.name)
    if (e.isDirectory()) total += await dirSize(p)
    else if (e.isFile()) total += (await stat(p).catch(() => ({size: 0}))).size
  }
  return total
}

/** The bytes of the node's RocksDB directory (etcd's db size). */
export const dbSize = (node: RaftNode): Promise<number> => dirSize(join(node.config.dataDir, 'db'))

/** The node's connection to each other member. */
export function peerConnections(node: RaftNode): PeerConnection[] {
  return node.storage.members().filter((m) => m.id !== node.id).map((m) => {
    const s = node.transport.peerStats(m.id)
    return {
      id: m.id, peerUrl: s?.address ?? m.peerUrls[0] ?? '', connected: s?.state === 'open',
      queuedMessages: s?.queuedMessages ?? 0, droppedMessages: s?.droppedMessages ?? 0,
    }
  })
}

/** What is wrong with the node now, one sentence each. */
export function nodeProblems(node: RaftNode): string[] {
  const out: string[] = []
  const leaderless = node.leaderlessForMs
  if (leaderless !== undefined) out.push(`no leader known for ${(leaderless / 1000).toFixed(1)} s`)
  const cs = node.storage.confState
  if (roleOf(cs, node.id) === MemberStatus_Role.ROLE_UNSPECIFIED) {
    out.push(cs.voters.length === 0
      ? 'this node has not received the cluster state yet (waiting for a snapshot from the leader)'
      : 'this node is not a member of the cluster')
  }
  return out
}

/** The node's status; the header is filled by the caller. */
export async function nodeStatus(node: RaftNode): Promise<Omit<NodeStatusResponse, 'header'>> {
  const st = node.rn.status()
  const cs = node.storage.confState
  return {
    id: node.id, name: node.config.name, version: RAFTCTL_VERSION,
    raftState: RAFT_STATE[st.role], role: roleOf(cs, node.id), leader: st.leaderId, raftTerm: st.term,
    raftCommitIndex: st.commit, raftAppliedIndex: node.storage.applied.index,
    raftFirstIndex: node.storage.firstIndex(), raftLastIndex: node.storage.lastIndex(),
    snapshotIndex: node.storage.snapshot(0, 0).metadata.index,
    dbSize: await dbSize(node), confState: confStateToWire(cs), peers: peerConnections(node), errors: nodeProblems(node),
  }
}
