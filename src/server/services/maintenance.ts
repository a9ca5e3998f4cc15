/**
 * The Maintenance service: this node's status, its health, and a download of a snapshot file of
 * its current applied state. Every call is answered by the node it is sent to.
 *
 * Snapshot first makes sure a snapshot file covers the applied index (creating one when entries
 * were applied since the last), then streams that file: the first message names what it covers
 * and its size, the last one carries the CRC-32 of the whole file.
 */
import type {ServerWritableStream} from '@grpc/grpc-js'
import {
  type HealthResponse, type MaintenanceServer, type SnapshotRequest, type SnapshotResponse, type StatusResponse,
} from '../../generated/raftctl/v1/maintenance.js'
import {snapshotMetadataToWire} from '../../raftpb/convert.js'
import {toServiceError} from '../errors.js'
import type {RaftNode} from '../node.js'
import {nodeStatus} from '../node_status.js'
import {readBarrier} from '../requests.js'
import {snapshotChunks, writeDrained} from '../snapshot_stream.js'
import {checkAccepting, header, requestOf, type ServiceContext, unary} from './common.js'

/** Part of a Health call's deadline kept for answering "unhealthy" after a failed ReadIndex. */
const HEALTH_ANSWER_MARGIN_MS = 250

/** The node's status; with `hashKv`, also the store's hashKV digest (KvStore.hashKV: reads the whole history). */
export async function legacyNodeStatus(node: RaftNode, hashKv = false): Promise<StatusResponse> {
  const h = hashKv ? await node.kv.hashKV() : undefined
  const st = await nodeStatus(node)
  return {
    ...st, header: header(node), raftState: st.raftState as number, role: st.role as number,
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
    status: unary(ctx, 'Status', (req) => legacyNodeStatus(node, req.hashKv)),
    health: unary(ctx, 'Health', (req, ms) => health(node, req.serializable, ms)),
    snapshot: (call) => void snapshot(ctx, call),
  }
}

async function snapshot(ctx: ServiceContext, call: ServerWritableStream<SnapshotRequest, SnapshotResponse>): Promise<void> {
  const node = ctx.node
  try {
    checkAccepting(ctx)
    requestOf(call)
    for await (const c of snapshotChunks(node)) {
      const sent = await writeDrained(call, {
        header: c.first ? header(node) : undefined, metadata: c.first ? snapshotMetadataToWire(c.info.metadata) : undefined,
        totalSize: c.first ? c.size : 0, remainingBytes: c.remaining, blob: c.blob, crc32: c.remaining === 0 ? c.crc : 0,
      })
      if (!sent) return
    }
    call.end()
  } catch (err) {
    call.emit('error', toServiceError(err))
  }
}
