/**
 * The Maintenance service: this node's status, its health, and a download of a snapshot file of
 * its current applied state. Every call is answered by the node it is sent to.
 *
 * Snapshot first makes sure a snapshot file covers the applied index (creating one when entries
 * were applied since the last), then streams that file: the first message names what it covers
 * and its size, the last one carries the CRC-32 of the whole file.
 */
import {createReadStream} from 'node:fs'
import {readdir, stat} from 'node:fs/promises'
import {join} from 'node:path'
import {crc32} from 'node:zlib'
import type {ServerWritableStream} from '@grpc/grpc-js'
import {MemberStatus_Role} from '../../generated/raftctl/v1/cluster.js'
import {
  type HealthResponse, type MaintenanceServer, type PeerConnection, type SnapshotRequest,
  type SnapshotResponse, type StatusResponse, StatusResponse_RaftState,
} from '../../generated/raftctl/v1/maintenance.js'
import {StateRole} from '../../raft/index.js'
import {confStateToWire, snapshotMetadataToWire} from '../../raftpb/convert.js'
import {toServiceError} from '../errors.js'
import {roleOf} from '../member_status.js'
import type {RaftNode} from '../node.js'
import {readBarrier} from '../requests.js'
import {RAFTCTL_VERSION} from '../version.js'
import {checkAccepting, header, requestOf, type ServiceContext, unary} from './common.js'

const RAFT_STATE: Record<StateRole, StatusResponse_RaftState> = {
  [StateRole.Follower]: StatusResponse_RaftState.FOLLOWER,
  [StateRole.Candidate]: StatusResponse_RaftState.CANDIDATE,
  [StateRole.Leader]: StatusResponse_RaftState.LEADER,
  [StateRole.PreCandidate]: StatusResponse_RaftState.PRE_CANDIDATE,
}

const BLOB_BYTES = 1 << 20
/** Part of a Health call's deadline kept for answering "unhealthy" after a failed ReadIndex. */
const HEALTH_ANSWER_MARGIN_MS = 250

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

function peers(node: RaftNode): PeerConnection[] {
  return node.storage.members().filter((m) => m.id !== node.id).map((m) => {
    const s = node.transport.peerStats(m.id)
    return {
      id: m.id, peerUrl: s?.address ?? m.peerUrls[0] ?? '', connected: s?.state === 'open',
      queuedMessages: s?.queuedMessages ?? 0, droppedMessages: s?.droppedMessages ?? 0,
    }
  })
}

function problems(node: RaftNode): string[] {
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

/** The node's status; with `hashKv`, also the store's hashKV digest (KvStore.hashKV: reads the whole history). */
export async function nodeStatus(node: RaftNode, hashKv = false): Promise<StatusResponse> {
  const st = node.rn.status()
  const cs = node.storage.confState
  const h = hashKv ? await node.kv.hashKV() : undefined
  return {
    header: header(node), id: node.id, name: node.config.name, version: RAFTCTL_VERSION,
    raftState: RAFT_STATE[st.role], role: roleOf(cs, node.id), leader: st.leaderId, raftTerm: st.term,
    raftCommitIndex: st.commit, raftAppliedIndex: node.storage.applied.index,
    raftFirstIndex: node.storage.firstIndex(), raftLastIndex: node.storage.lastIndex(),
    snapshotIndex: node.storage.snapshot(0, 0).metadata.index,
    dbSize: await dirSize(join(node.config.dataDir, 'db')),
    confState: confStateToWire(cs), peers: peers(node), errors: problems(node),
    kvHash: h?.digest ?? '', kvHashRevision: h?.revision ?? 0, kvHashAppliedIndex: h?.appliedIndex ?? 0,
  }
}

async function health(node: RaftNode, serializable: boolean, ms: number): Promise<HealthResponse> {
  const base = {header: header(node), leader: node.leaderId}
  if (node.leaderId === 0) return {...base, healthy: false, reason: `node ${node.id} knows no leader`}
  if (serializable) return {...base, healthy: true, reason: ''}
  try {
    // Leave part of the caller's deadline for the answer, so an unhealthy node says why.
    await readBarrier(node, Math.max(1, Math.min(ms - HEALTH_ANSWER_MARGIN_MS, 5000)))
    return {...base, healthy: true, reason: ''}
  } catch (err) {
    return {...base, healthy: false, reason: `no quorum confirmed a read: ${(err as Error).message}`}
  }
}

export function maintenanceService(ctx: ServiceContext): MaintenanceServer {
  const node = ctx.node
  return {
    status: unary(ctx, 'Status', (req) => nodeStatus(node, req.hashKv)),
    health: unary(ctx, 'Health', (req, ms) => health(node, req.serializable, ms)),
    snapshot: (call) => void snapshot(ctx, call),
  }
}

async function snapshot(ctx: ServiceContext, call: ServerWritableStream<SnapshotRequest, SnapshotResponse>): Promise<void> {
  const node = ctx.node
  try {
    checkAccepting(ctx)
    requestOf(call)
    const info = await node.snapshotter.create('snapshot download')
    const input = createReadStream(info.path, {highWaterMark: BLOB_BYTES})
    const {size} = await stat(info.path)
    let sent = 0
    let crc = 0
    let first = true
    node.log.info({event: 'snapshot-download', index: info.metadata.index, bytes: size}, 'streaming a snapshot to a client')
    for await (const chunk of input as AsyncIterable<Buffer>) {
      if (call.cancelled) {
        input.destroy()
        return
      }
      sent += chunk.length
      crc = crc32(chunk, crc)
      const last = sent === size
      await write(call, {
        header: first ? header(node) : undefined, metadata: first ? snapshotMetadataToWire(info.metadata) : undefined,
        totalSize: first ? size : 0, remainingBytes: size - sent, blob: chunk, crc32: last ? crc : 0,
      })
      first = false
    }
    if (sent !== size) throw new Error(`the snapshot file ${info.path} changed while it was streamed`)
    call.end()
  } catch (err) {
    call.emit('error', toServiceError(err))
  }
}

function write(call: ServerWritableStream<SnapshotRequest, SnapshotResponse>, r: SnapshotResponse): Promise<void> {
  if (call.write(r)) return Promise.resolve()
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done)
      call.off('cancelled', done)
      resolve()
    }
    call.once('drain', done)
    call.once('cancelled', done)
  })
}
