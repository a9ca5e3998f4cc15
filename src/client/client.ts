/**
 * RaftctlClient: the typed client of a raftctl cluster, used by the CLI and every test. It speaks
 * etcd's services — KV (get, put, delete, txn, compact), Cluster (add, remove, update, list,
 * promote) and Maintenance (status, hashkv, snapshot, move leader) — plus raftctl's extension
 * service for what etcd lacks (demote, joint changes, leave-joint, replication progress, node
 * status). Every member serves every call (a follower
 * proposes writes itself and forwards membership calls to the leader), so no call is redirected.
 *
 * Each call runs through ClusterConnection: the last endpoint that answered first, the next
 * endpoint when one cannot be reached, retries with back-off for reads and for writes the server
 * refused before proposing them (`raftctl-retry-safe`), until one deadline; a write whose outcome
 * is unknown (etcd's "request timed out", a lost connection, the deadline) is not repeated: its
 * error says how to check it. Every answer's cluster id must match the first one seen, and an
 * error shows raftctl's explanation (`raftctl-detail`) instead of etcd's bare text (rpc.ts).
 *
 * raftctl's own choices on etcd's MemberAdd and MemberPromote travel as request metadata: the
 * node id to give the new member (`raftctl-member-id`) and `raftctl-force: 1`.
 *
 * Maintenance calls (status, hashkv, snapshot, the leadership transfer) are etcd's Maintenance
 * service; raftctl's own view of a member's Raft state is the extension's NodeStatus.
 */
import {
  ClusterClient as EtcdClusterClient, type MemberAddResponse, type MemberListResponse, type MemberPromoteResponse,
  type MemberRemoveResponse, type MemberUpdateResponse,
} from '../generated/etcd/etcdserverpb/cluster.js'
import {
  type CompactionResponse, type DeleteRangeResponse, KVClient, type PutResponse, type RangeResponse, type TxnRequest,
  type TxnResponse,
} from '../generated/etcd/etcdserverpb/kv.js'
import type {KeyValue} from '../generated/etcd/mvccpb/kv.js'
import {ConfChangeTransition} from '../generated/eraftpb.js'
import {
  type HashKVResponse, MaintenanceClient, type MoveLeaderResponse, type StatusResponse,
} from '../generated/etcd/etcdserverpb/maintenance.js'
import {
  type LeaveJointResponse, type MemberChangeRequest, MemberChangeRequest_Change_Kind as Kind, type MemberChangeResponse,
  type MemberDemoteResponse, type MemberProgressResponse, type NodeStatusResponse, RaftctlClient as ExtensionClient,
} from '../generated/raftctl/v1/raftctl.js'
import {FORCE_KEY, MEMBER_ID_KEY} from '../raftpb/metadata.js'
import {ClusterConnection} from './connection.js'
import {type Bytes, keyRange, type KeyRangeOptions, toBytes} from './keys.js'
import {type Membership, type MembershipChange, membershipChange, statuses, withoutProgress} from './members.js'
import type {CallSpec, UnaryFn} from './rpc.js'
import {type SnapshotDownload, downloadSnapshot} from './snapshot.js'
import {type WatchOptions, WatchStream} from './watch.js'

export interface RaftctlClientOptions {
  /** Client endpoints (host:port) of the cluster's members. */
  readonly endpoints: readonly string[]
  /** Time budget of one call, retries included. Default 5 s. */
  readonly timeoutMs?: number
}

export interface RangeOptions extends KeyRangeOptions {
  readonly limit?: number
  /** Read the answering member's state without a ReadIndex round (may be stale). */
  readonly serializable?: boolean
  /** Read at this revision (0: the latest); any revision not yet compacted can be read. */
  readonly revision?: number
  readonly keysOnly?: boolean
  readonly countOnly?: boolean
  /** Send the read to this endpoint only (no failover). */
  readonly endpoint?: string
}

export interface WatchRequestOptions extends WatchOptions, KeyRangeOptions {
  /** First revision to deliver; 0 (default) = from the next write. */
  readonly startRevision?: number
  readonly prevKv?: boolean
  /** Leave out PUT events (etcd's NOPUT filter). */
  readonly noPut?: boolean
  /** Leave out DELETE events (etcd's NODELETE filter). */
  readonly noDelete?: boolean
}

/** A change of MemberChange, with the kind given by name. */
export interface MemberChangeSpec {
  readonly kind: 'add-voter' | 'add-learner' | 'remove' | 'demote'
  readonly id: number
  /** For a new member: its peer URLs (host:port). */
  readonly peerUrls?: readonly string[]
}

/** What memberAdd takes: raftctl lets the caller choose the new node's id. */
export interface MemberAddOptions {
  /** The node id to give the new member (1..2^53-1); without it the server picks a fresh one. */
  readonly id?: number
  readonly peerUrls: readonly string[]
  readonly isLearner?: boolean
  /** Skip the server's reachable-quorum check (risky). */
  readonly force?: boolean
}

/** What memberList takes. */
export interface MemberListOptions {
  /** Confirm the list through a ReadIndex round first (etcd's linearizable MemberList). */
  readonly linearizable?: boolean
  /** Ask this endpoint only (no failover); it still forwards MemberProgress to the leader. */
  readonly endpoint?: string
}

const KIND: Record<MemberChangeSpec['kind'], Kind> = {'add-voter': Kind.ADD_VOTER, 'add-learner': Kind.ADD_LEARNER, 'remove': Kind.REMOVE, 'demote': Kind.DEMOTE}
const TRANSITION = {auto: ConfChangeTransition.Auto, implicit: ConfChangeTransition.Implicit, explicit: ConfChangeTransition.Explicit}

/** How to check a write whose outcome is unknown (ClientError.outcomeUnknown). */
const READ_BACK = 'read the keys back with raftctl kv get'
const LIST_MEMBERS = 'see the membership with raftctl member list'

type Method<C, Req, Res> = (c: C) => UnaryFn<Req, Res>
const m = <C, Req, Res>(f: (c: C) => unknown): Method<C, Req, Res> => (c) => (f(c) as UnaryFn<Req, Res>).bind(c)

/** etcd's 64-bit member id of a raftctl node id. */
const memberId = (id: number): bigint => BigInt(id)

export class RaftctlClient {
  readonly conn: ClusterConnection

  constructor(readonly options: RaftctlClientOptions) {
    this.conn = new ClusterConnection(options.endpoints, {timeoutMs: options.timeoutMs ?? 5000})
  }

  get endpoints(): readonly string[] {
    return this.conn.endpoints
  }

  /** Closes every channel; watches in progress end. */
  close(): void {
    this.conn.close()
  }

  // ---- KV (etcd's KV service) ----

  /** Writes a key; with `lease` (an etcd lease id) the key is deleted when that lease ends. */
  put(key: Bytes, value: Bytes, opts: {prevKv?: boolean, lease?: bigint} = {}): Promise<PutResponse> {
    return this.conn.call(KVClient, {
      what: 'put', method: m((c) => c.put), idempotent: false, check: READ_BACK,
      request: {key: toBytes(key), value: toBytes(value), lease: opts.lease ?? 0n, prevKv: opts.prevKv ?? false, ignoreValue: false, ignoreLease: false},
    })
  }

  range(key: Bytes, opts: RangeOptions = {}): Promise<RangeResponse> {
    const request = {
      ...keyRange(key, opts), limit: opts.limit ?? 0, revision: opts.revision ?? 0, sortOrder: 0, sortTarget: 0,
      serializable: opts.serializable ?? false, keysOnly: opts.keysOnly ?? false, countOnly: opts.countOnly ?? false,
      minModRevision: 0, maxModRevision: 0, minCreateRevision: 0, maxCreateRevision: 0,
    }
    const spec = {what: 'range', method: m<KVClient, typeof request, RangeResponse>((c) => c.range), idempotent: true, request}
    return opts.endpoint === undefined ? this.conn.call(KVClient, spec) : this.conn.callOne(KVClient, opts.endpoint, spec)
  }

  /** The value of one key, or undefined when it does not exist. */
  async get(key: Bytes, opts: Omit<RangeOptions, keyof KeyRangeOptions> = {}): Promise<KeyValue | undefined> {
    return (await this.range(key, opts)).kvs[0]
  }

  deleteRange(key: Bytes, opts: KeyRangeOptions & {prevKv?: boolean} = {}): Promise<DeleteRangeResponse> {
    return this.conn.call(KVClient, {
      what: 'delete', method: m((c) => c.deleteRange), idempotent: false, check: READ_BACK,
      request: {...keyRange(key, opts), prevKv: opts.prevKv ?? false},
    })
  }

  txn(request: Partial<TxnRequest>): Promise<TxnResponse> {
    return this.conn.call(KVClient, {
      what: 'txn', method: m((c) => c.txn), idempotent: false, check: READ_BACK,
      request: {compare: [], success: [], failure: [], ...request},
    })
  }

  /**
   * Compacts the history below `revision` (reads and watches of older revisions then fail as
   * compacted). With `physical`, answers only once the answering member deleted that history.
   * Repeating a compaction to the same revision is refused as compacted, so it is no retry.
   */
  compact(revision: number, opts: {physical?: boolean} = {}): Promise<CompactionResponse> {
    return this.conn.call(KVClient, {
      what: 'compact', method: m((c) => c.compact), idempotent: false, check: 'read an old revision with raftctl kv get --rev',
      request: {revision, physical: opts.physical ?? false},
    })
  }

  /** Watches a key or range through etcd's Watch service; see WatchStream for how it resumes on another member. */
  watch(key: Bytes, opts: WatchRequestOptions = {}): WatchStream {
    return new WatchStream(this.conn, {
      ...keyRange(key, opts), startRevision: opts.startRevision ?? 0, prevKv: opts.prevKv ?? false,
      noPut: opts.noPut ?? false, noDelete: opts.noDelete ?? false,
    }, opts)
  }

  // ---- Cluster (etcd's Cluster service) ----

  /** Adds a member through etcd's MemberAdd; raftctl's id and force ride in metadata. */
  memberAdd(opts: MemberAddOptions): Promise<MemberAddResponse> {
    const metadata: Record<string, string> = {}
    if (opts.id !== undefined) metadata[MEMBER_ID_KEY] = String(opts.id)
    if (opts.force === true) metadata[FORCE_KEY] = '1'
    return this.etcdCluster('member add', (c) => c.memberAdd, {peerURLs: [...opts.peerUrls], isLearner: opts.isLearner ?? false}, false, metadata)
  }

  /** Promotes a learner; etcd refuses a voter with FAILED_PRECONDITION (not a learner). */
  memberPromote(id: number, opts: {force?: boolean} = {}): Promise<MemberPromoteResponse> {
    return this.etcdCluster('member promote', (c) => c.memberPromote, {ID: memberId(id)}, true, opts.force === true ? {[FORCE_KEY]: '1'} : {})
  }

  memberRemove(id: number): Promise<MemberRemoveResponse> {
    return this.etcdCluster('member remove', (c) => c.memberRemove, {ID: memberId(id)}, false)
  }

  /** Replaces a member's peer URLs (its name and client URLs are what the node itself publishes). */
  memberUpdate(id: number, peerUrls: readonly string[]): Promise<MemberUpdateResponse> {
    return this.etcdCluster('member update', (c) => c.memberUpdate, {ID: memberId(id), peerURLs: [...peerUrls]}, true)
  }

  /** etcd's MemberList as the answering member has it (linearizable: after a ReadIndex round). */
  etcdMemberList(opts: MemberListOptions = {}): Promise<MemberListResponse> {
    const spec = {what: 'member list', method: m<EtcdClusterClient, {linearizable: boolean}, MemberListResponse>((c) => c.memberList),
      idempotent: true, request: {linearizable: opts.linearizable ?? false}}
    return opts.endpoint === undefined ? this.conn.call(EtcdClusterClient, spec) : this.conn.callOne(EtcdClusterClient, opts.endpoint, spec)
  }

  // ---- raftctl's extension service ----

  async memberDemote(id: number): Promise<MembershipChange> {
    return membershipChange(await this.extension<{id: number}, MemberDemoteResponse>('member demote', (c) => c.memberDemote, {id}, true, LIST_MEMBERS))
  }

  async memberChange(changes: readonly MemberChangeSpec[], opts: {transition?: keyof typeof TRANSITION, force?: boolean} = {}): Promise<MembershipChange> {
    const request: MemberChangeRequest = {
      changes: changes.map((c) => ({kind: KIND[c.kind], id: c.id, peerUrls: [...(c.peerUrls ?? [])]})),
      transition: TRANSITION[opts.transition ?? 'auto'], force: opts.force ?? false,
    }
    return membershipChange(await this.extension<MemberChangeRequest, MemberChangeResponse>('member change', (c) => c.memberChange, request, false, LIST_MEMBERS))
  }

  async leaveJoint(): Promise<MembershipChange> {
    return membershipChange(await this.extension<object, LeaveJointResponse>('leave joint', (c) => c.leaveJoint, {}, false, LIST_MEMBERS))
  }

  /** Every member's role and replication progress, answered by the leader (forwarded there). */
  memberProgress(opts: {endpoint?: string} = {}): Promise<MemberProgressResponse> {
    return this.extension('member progress', (c) => c.memberProgress, {}, true, undefined, opts.endpoint)
  }

  /**
   * raftctl's status of a member (the extension's NodeStatus): its Raft state, log bounds,
   * ConfState, peers and problems — of `endpoint`, or of any member that answers.
   */
  status(endpoint?: string): Promise<NodeStatusResponse> {
    return this.extension('node status', (c) => c.nodeStatus, {}, true, undefined, endpoint)
  }

  /**
   * The member list with roles, the ConfState and, when a leader can be asked, each member's
   * replication progress (members.ts says how it is assembled). With `linearizable`, etcd's
   * MemberList with a ReadIndex round is asked first, so the list is not stale.
   */
  async memberList(opts: MemberListOptions = {}): Promise<Membership> {
    const linearized = opts.linearizable === true ? await this.etcdMemberList(opts) : undefined
    const st = await this.status(opts.endpoint)
    if (st.leader !== 0) {
      const p = await this.memberProgress(opts).catch(() => undefined)
      if (p !== undefined) return {header: p.header, members: statuses(p.members), confState: p.confState, leader: p.leader, fromLeader: true}
    }
    const list = linearized ?? await this.etcdMemberList({endpoint: opts.endpoint})
    return {header: list.header, members: withoutProgress(list.members, st.confState, st.leader), confState: st.confState, leader: st.leader, fromLeader: false}
  }

  // ---- Maintenance (etcd's Maintenance service) ----

  /**
   * Moves leadership to node `targetId` through etcd's MoveLeader (any member forwards it to the
   * leader) and answers once the target leads. A refusal carries the leader's reason in
   * raftctl-detail (the target is not a voter, is not reachable, the transfer did not happen).
   */
  async moveLeader(targetId: number): Promise<MoveLeaderResponse> {
    return this.conn.call(MaintenanceClient, {what: 'leader transfer', method: m<MaintenanceClient, {targetID: bigint}, MoveLeaderResponse>((c) => c.moveLeader),
      idempotent: true, request: {targetID: memberId(targetId)}, check: LIST_MEMBERS})
  }

  /** etcd's Status of the member at `endpoint` (what etcdctl endpoint status shows). */
  etcdStatus(endpoint = this.endpoints[0]): Promise<StatusResponse> {
    return this.conn.callOne(MaintenanceClient, endpoint, {what: 'status', method: m((c) => c.status), idempotent: true, request: {}})
  }

  /**
   * etcd's HashKV of the member at `endpoint`: the hash of its key/value history up to `revision`
   * (0: its latest); members that hold the same history answer the same hash.
   */
  hashKv(endpoint = this.endpoints[0], revision = 0): Promise<HashKVResponse> {
    return this.conn.callOne(MaintenanceClient, endpoint, {what: 'hashkv', method: m((c) => c.hashKv), idempotent: true, request: {revision}})
  }

  /**
   * Downloads the member's snapshot file through etcd's Snapshot: resolves once the first piece
   * arrived (with the file's size); its `chunks` yield the file and check its length at the end.
   */
  async snapshot(endpoint = this.endpoints[0], opts: {timeoutMs?: number} = {}): Promise<SnapshotDownload> {
    const d = await downloadSnapshot(this.conn.client(MaintenanceClient, endpoint), endpoint, opts.timeoutMs ?? 10 * 60_000)
    try {
      this.conn.checkClusterId(endpoint, d)
    } catch (err) {
      d.cancel()
      throw err
    }
    return d
  }

  // ---- plumbing ----

  private etcdCluster<Req, Res>(what: string, f: (c: EtcdClusterClient) => unknown, request: Req, idempotent: boolean,
    metadata: Record<string, string> = {}): Promise<Res> {
    return this.conn.call(EtcdClusterClient, {what, method: m<EtcdClusterClient, Req, Res>(f), idempotent, request, check: LIST_MEMBERS, metadata})
  }

  private extension<Req, Res>(what: string, f: (c: ExtensionClient) => unknown, request: Req, idempotent: boolean,
    check?: string, endpoint?: string): Promise<Res> {
    const spec: CallSpec<ExtensionClient, Req, Res> = {what, method: m<ExtensionClient, Req, Res>(f), idempotent, request, ...(check === undefined ? {} : {check})}
    return endpoint === undefined ? this.conn.call(ExtensionClient, spec) : this.conn.callOne(ExtensionClient, endpoint, spec)
  }
}
