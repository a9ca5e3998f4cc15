/**
 * etcd's Maintenance service. Every call is answered by the member it is sent to, except
 * MoveLeader, which only the leader can carry out (a follower forwards it, forward.ts; etcd's own
 * members refuse it with "not leader" instead).
 *
 * - Status: etcd 3.4's fields from this member's Raft state (leader, commit index as raft_index,
 *   applied index, term, is_learner); db_size and db_size_in_use are both the bytes of the
 *   member's RocksDB directory; `errors` holds etcd's "no leader" text while the member knows
 *   none. raftctl's own details are in the extension's NodeStatus.
 * - Hash: CRC-32 (IEEE) of the data at the current revision — the mvccpb.KeyValue encoding of
 *   every live key, in key order — so members at the same revision agree (etcd hashes its whole
 *   bbolt file instead, which members never share).
 * - HashKV: the store's hash of the logical history up to a revision (KvStore.hashKV), equal on
 *   every member whatever its physical compaction progress; compact_revision is -1 while the
 *   store was never compacted, as etcd answers.
 * - Snapshot: raftctl's snapshot file (not a bbolt file) as a stream of blobs, re-emitted in the
 *   size etcdctl checks (kv/snapshot_pad.ts): etcdctl snapshot save writes it to disk; raftctl
 *   snapshot inspect/restore read it, etcdctl snapshot status/restore cannot.
 * - MoveLeader: hands leadership to the target voter and answers once it leads, as etcd does;
 *   a voter the leader cannot reach now is refused at once (etcd's bad leader transferee, the
 *   reason in raftctl-detail) instead of after the wait;
 *   a transfer that does not complete in time answers etcd's transfer timeout before the
 *   caller's deadline, with the leader's view of why in raftctl-detail.
 * - Alarm: raftctl raises no alarms (it has no space quota and no corruption check), so the list
 *   is always empty and deactivating changes nothing (etcd's answers when no alarm is raised);
 *   activating one answers UNIMPLEMENTED. The header is empty, as etcd leaves it.
 * - Defragment: compacts the member's RocksDB key range, returning the space of deleted and
 *   overwritten records to the file system.
 * - Downgrade (etcd 3.5): UNIMPLEMENTED, as etcd 3.4 answers.
 */
import {status, type ServerWritableStream} from '@grpc/grpc-js'
import {crc32} from 'node:zlib'
import {
  type AlarmResponse, AlarmRequest_AlarmAction as AlarmAction, AlarmType, type DefragmentResponse, type HashKVResponse,
  type HashResponse, type MaintenanceServer, MaintenanceService, type MoveLeaderResponse, type SnapshotRequest,
  type SnapshotResponse, type StatusResponse,
} from '../../../generated/etcd/etcdserverpb/maintenance.js'
import {KeyValue} from '../../../generated/etcd/mvccpb/kv.js'
import {KvError} from '../../../kv/index.js'
import {etcdError, ETCD_ERRORS, invalidArgument, NodeError, toServiceError} from '../../errors.js'
import {checkTransferTarget, transferObstacle} from '../../membership.js'
import {membershipView} from '../../membership_view.js'
import type {RaftNode} from '../../node.js'
import {dbSize} from '../../node_status.js'
import {answerMargin, noLeader, transferLeader} from '../../requests.js'
import {snapshotChunks, writeDrained} from '../../snapshot_stream.js'
import {RAFTCTL_VERSION} from '../../version.js'
import {checkAccepting, etcdHeader, leaderUnary, requestOf, requestOptions, type ServiceContext, unary} from '../common.js'

/** Keys read per page while hashing. */
const HASH_PAGE = 1000
/** Times Hash starts again when a compaction passed the revision it was reading. */
const HASH_ATTEMPTS = 3

/** The answer to Downgrade. */
export const DOWNGRADE_UNSUPPORTED = 'downgrades are not supported by this raftctl version'
/** The answer to activating an alarm. */
export const ALARMS_UNSUPPORTED = 'raftctl raises no alarms (it has no space quota and no corruption check), so none can be activated'

/** etcd's Status of this member. */
async function memberStatus(node: RaftNode): Promise<StatusResponse> {
  const st = node.rn.status()
  const size = await dbSize(node)
  return {
    header: etcdHeader(node, node.kv.revision), version: RAFTCTL_VERSION, dbSize: size, dbSizeInUse: size,
    leader: BigInt(st.leaderId), raftIndex: st.commit, raftTerm: st.term, raftAppliedIndex: node.storage.applied.index,
    errors: st.leaderId === 0 ? [ETCD_ERRORS.noLeader.message] : [], isLearner: node.storage.confState.learners.includes(node.id),
  }
}

/** One attempt of hashLatest: every live key at the revision of the first page. */
async function hashOnce(node: RaftNode): Promise<{hash: number, revision: number}> {
  let revision = 0
  let hash = 0
  let key: Uint8Array = Uint8Array.of(0)
  for (;;) {
    const res = await node.kv.range({
      key, rangeEnd: Uint8Array.of(0), limit: HASH_PAGE, revision, sortOrder: 0, sortTarget: 0, serializable: true,
      keysOnly: false, countOnly: false, minModRevision: 0, maxModRevision: 0, minCreateRevision: 0, maxCreateRevision: 0,
    })
    if (revision === 0) revision = res.header?.revision ?? node.kv.revision
    for (const kv of res.kvs) hash = crc32(KeyValue.encode(kv).finish(), hash)
    if (!res.more || res.kvs.length === 0) return {hash, revision}
    key = Uint8Array.of(...res.kvs[res.kvs.length - 1].key, 0)
  }
}

/**
 * The CRC-32 of every live key at one revision; see the module comment. The pages are read at
 * one revision, so concurrent writes do not mix in; a compaction past that revision meanwhile
 * makes it start again at the new current revision (at most HASH_ATTEMPTS times).
 */
async function hashLatest(node: RaftNode): Promise<{hash: number, revision: number}> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await hashOnce(node)
    } catch (err) {
      if (!(err instanceof KvError && err.code === 'COMPACTED') || attempt >= HASH_ATTEMPTS) throw err
    }
  }
}

/** etcd's answers to Alarm when no alarm is raised; see the module comment. */
function alarm(action: AlarmAction, type: AlarmType): AlarmResponse {
  if (action === AlarmAction.ACTIVATE) {
    throw new NodeError(status.UNIMPLEMENTED, `${ALARMS_UNSUPPORTED} (asked to activate alarm ${AlarmType[type] ?? type})`)
  }
  if (action !== AlarmAction.GET && action !== AlarmAction.DEACTIVATE) {
    throw invalidArgument(`alarm action ${action} is not one of GET (0), ACTIVATE (1) or DEACTIVATE (2)`)
  }
  return {header: undefined, alarms: []}
}

/** MoveLeader's target: a voter (etcd's "bad leader transferee" otherwise, with raftctl's reason). */
function moveTarget(node: RaftNode, id: bigint): number {
  const cs = membershipView(node).confState
  const target = id > 0n && id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : 0
  if (target === 0 || !cs.voters.includes(target)) {
    const what = [...cs.learners, ...cs.learnersNext, ...cs.votersOutgoing].includes(target) ? 'is not a voter, so it cannot lead'
      : 'is not a member of the cluster'
    throw etcdError('badLeaderTransferee', `node ${id} ${what}`)
  }
  return target
}

/** Moves leadership to the target (on the leader); see the module comment. */
async function moveLeader(node: RaftNode, targetId: bigint, ms: number): Promise<MoveLeaderResponse> {
  const target = moveTarget(node, targetId)
  try {
    // A voter the leader cannot reach now is refused at once rather than after the wait.
    checkTransferTarget(membershipView(node), target)
  } catch (err) {
    throw err instanceof NodeError ? etcdError('badLeaderTransferee', err.message) : err
  }
  try {
    await transferLeader(node, target, ms - answerMargin(ms), () => transferObstacle(membershipView(node), target))
  } catch (err) {
    if (err instanceof NodeError && err.grpcCode === status.DEADLINE_EXCEEDED) throw etcdError('leaderTransferTimeout', err.message)
    throw err
  }
  return {header: undefined}
}

export function etcdMaintenanceService(ctx: ServiceContext): MaintenanceServer {
  const node = ctx.node
  return {
    status: unary(ctx, 'Status', () => memberStatus(node)),
    hash: unary(ctx, 'Hash', async (): Promise<HashResponse> => {
      const h = await hashLatest(node)
      return {header: etcdHeader(node, h.revision), hash: h.hash}
    }),
    hashKv: unary(ctx, 'HashKV', async (req): Promise<HashKVResponse> => {
      const h = await node.kv.hashKV(req.revision)
      return {header: etcdHeader(node, h.revision), hash: h.hash, compactRevision: h.compactRevision === 0 ? -1 : h.compactRevision}
    }),
    snapshot: (call) => void snapshot(ctx, call),
    moveLeader: leaderUnary(ctx, MaintenanceService.moveLeader, 'MoveLeader', (req, ms) => moveLeader(node, req.targetID, ms)),
    alarm: unary(ctx, 'Alarm', (req) => Promise.resolve(alarm(req.action, req.alarm))),
    defragment: unary(ctx, 'Defragment', async (): Promise<DefragmentResponse> => {
      await node.storage.db.compactRange()
      return {header: undefined}
    }),
    downgrade: unary(ctx, 'Downgrade', () => Promise.reject(new NodeError(status.UNIMPLEMENTED, DOWNGRADE_UNSUPPORTED))),
  }
}

/**
 * Streams the snapshot file in etcd's Snapshot messages; a failure ends the stream with its
 * status. As every call, it is refused at once without a leader when it asked for one (etcd's
 * `hasleader`).
 */
async function snapshot(ctx: ServiceContext, call: ServerWritableStream<SnapshotRequest, SnapshotResponse>): Promise<void> {
  const node = ctx.node
  try {
    checkAccepting(ctx)
    requestOf(call)
    if (requestOptions(call.metadata).requireLeader === true && node.leaderId === 0) throw noLeader(node)
    for await (const c of snapshotChunks(node)) {
      const sent = await writeDrained(call, {header: c.first ? etcdHeader(node, node.kv.revision) : undefined, remainingBytes: c.remaining, blob: c.blob})
      if (!sent) return
    }
    call.end()
  } catch (err) {
    call.emit('error', toServiceError(err))
  }
}
