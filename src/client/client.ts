/**
 * RaftctlClient: the typed client of a raftctl cluster, used by the CLI and every test. It takes
 * an endpoint list and runs each call through ClusterConnection: the leader first when known,
 * redirects on a not-leader answer (the server's `raftctl-leader` hint), the next endpoint when
 * one cannot be reached, retries with back-off for reads and for writes the server refused
 * before proposing them, until one deadline; a write whose outcome is unknown is not repeated
 * (its error says how to check it). Every answer's cluster id must match the first one seen.
 *
 * Maintenance calls (status, health, snapshot) are about one member and go to the endpoint
 * given (the first one by default) without redirects.
 */
import {
  ClusterClient, type LeaveJointResponse, type MemberAddRequest, type MemberAddResponse,
  type MemberChangeRequest, type MemberChangeRequest_Change, type MemberChangeResponse,
  type MemberDemoteResponse, type MemberListResponse, type MemberPromoteResponse,
  type MemberRemoveResponse, type MemberUpdateResponse, type TransferLeaderResponse,
} from '../generated/raftctl/v1/cluster.js'
import {ConfChangeTransition} from '../generated/eraftpb.js'
import {
  type DeleteRangeResponse, type KeyValue, KVClient, type PutResponse, type RangeResponse,
  type TxnRequest, type TxnResponse,
} from '../generated/raftctl/v1/kv.js'
import {
  type HealthResponse, MaintenanceClient, type StatusResponse,
} from '../generated/raftctl/v1/maintenance.js'
import {ClusterConnection} from './connection.js'
import {type Bytes, keyRange, type KeyRangeOptions, toBytes} from './keys.js'
import type {ClientError, UnaryFn} from './rpc.js'
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
  readonly revision?: number
  readonly keysOnly?: boolean
  readonly countOnly?: boolean
  /** Send the read to this endpoint only (no redirects or failover). */
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
  readonly name?: string
  readonly peerUrls?: readonly string[]
  readonly clientUrls?: readonly string[]
}

const KIND: Record<MemberChangeSpec['kind'], number> = {'add-voter': 1, 'add-learner': 2, 'remove': 3, 'demote': 4}
const TRANSITION = {auto: ConfChangeTransition.Auto, implicit: ConfChangeTransition.Implicit, explicit: ConfChangeTransition.Explicit}

/** How to check a write whose outcome is unknown (ClientError.outcomeUnknown). */
const READ_BACK = 'read the keys back with raftctl kv get'
const LIST_MEMBERS = 'see the membership with raftctl member list'

type Method<C, Req, Res> = (c: C) => UnaryFn<Req, Res>
const m = <C, Req, Res>(f: (c: C) => unknown): Method<C, Req, Res> => (c) => (f(c) as UnaryFn<Req, Res>).bind(c)

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

  // ---- KV ----

  put(key: Bytes, value: Bytes, opts: {prevKv?: boolean} = {}): Promise<PutResponse> {
    return this.conn.call(KVClient, {
      what: 'put', method: m((c) => c.put), idempotent: false, check: READ_BACK,
      request: {key: toBytes(key), value: toBytes(value), prevKv: opts.prevKv ?? false},
    })
  }

  range(key: Bytes, opts: RangeOptions = {}): Promise<RangeResponse> {
    const request = {
      ...keyRange(key, opts), limit: opts.limit ?? 0, revision: opts.revision ?? 0,
      serializable: opts.serializable ?? false, keysOnly: opts.keysOnly ?? false, countOnly: opts.countOnly ?? false,
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

  /** Watches a key or range through etcd's Watch service; see WatchStream for how it resumes on another member. */
  watch(key: Bytes, opts: WatchRequestOptions = {}): WatchStream {
    return new WatchStream(this.conn, {
      ...keyRange(key, opts), startRevision: opts.startRevision ?? 0, prevKv: opts.prevKv ?? false,
      noPut: opts.noPut ?? false, noDelete: opts.noDelete ?? false,
    }, opts)
  }

  // ---- Cluster ----

  memberAdd(req: Pick<MemberAddRequest, 'id' | 'peerUrls'> & Partial<MemberAddRequest>): Promise<MemberAddResponse> {
    return this.cluster('member add', (c) => c.memberAdd, {name: '', isLearner: false, force: false, clientUrls: [], ...req}, false)
  }

  memberPromote(id: number, opts: {force?: boolean} = {}): Promise<MemberPromoteResponse> {
    return this.cluster('member promote', (c) => c.memberPromote, {id, force: opts.force ?? false}, true)
  }

  memberDemote(id: number): Promise<MemberDemoteResponse> {
    return this.cluster('member demote', (c) => c.memberDemote, {id}, true)
  }

  memberRemove(id: number): Promise<MemberRemoveResponse> {
    return this.cluster('member remove', (c) => c.memberRemove, {id}, false)
  }

  memberUpdate(id: number, opts: {peerUrls?: readonly string[], clientUrls?: readonly string[]}): Promise<MemberUpdateResponse> {
    return this.cluster('member update', (c) => c.memberUpdate,
      {id, peerUrls: [...(opts.peerUrls ?? [])], clientUrls: [...(opts.clientUrls ?? [])]}, true)
  }

  memberChange(changes: readonly MemberChangeSpec[], opts: {transition?: keyof typeof TRANSITION, force?: boolean} = {}): Promise<MemberChangeResponse> {
    const request: MemberChangeRequest = {
      changes: changes.map((c): MemberChangeRequest_Change => ({
        kind: KIND[c.kind], id: c.id, name: c.name ?? '', peerUrls: [...(c.peerUrls ?? [])], clientUrls: [...(c.clientUrls ?? [])],
      })),
      transition: TRANSITION[opts.transition ?? 'auto'], force: opts.force ?? false,
    }
    return this.cluster('member change', (c) => c.memberChange, request, false)
  }

  leaveJoint(): Promise<LeaveJointResponse> {
    return this.cluster('leave joint', (c) => c.leaveJoint, {}, false)
  }

  /**
   * The member list. Without `endpoint`, when a follower answered, the list is asked again from
   * the leader it names (and the leader remembered), because only the leader knows each member's
   * replication progress (match index, progress state, lag). The leader is reached at the client
   * URL it published or, until it has published one (its first moments as leader), looked for
   * among this client's endpoints by the member id in their answers. If the leader cannot be
   * asked, the follower's answer is returned.
   */
  async memberList(opts: {linearizable?: boolean, endpoint?: string} = {}): Promise<MemberListResponse> {
    const spec = {what: 'member list', method: m<ClusterClient, {linearizable: boolean}, MemberListResponse>((c) => c.memberList),
      idempotent: true, request: {linearizable: opts.linearizable ?? false}}
    if (opts.endpoint !== undefined) return this.conn.callOne(ClusterClient, opts.endpoint, spec)
    const r = await this.conn.call(ClusterClient, spec)
    const leader = r.members.find((x) => x.isLeader)?.member
    if (leader === undefined || leader.id === r.header?.memberId) return r
    const candidates = leader.clientUrls.length > 0 ? leader.clientUrls.slice(0, 1) : this.endpoints
    for (const url of candidates) {
      const answer = await this.conn.callOne(ClusterClient, url, spec).catch(() => undefined)
      if (answer?.header?.memberId !== leader.id) continue
      this.conn.setLeader(url)
      return answer
    }
    return r
  }

  transferLeader(targetId: number): Promise<TransferLeaderResponse> {
    return this.cluster('leader transfer', (c) => c.transferLeader, {targetId}, true)
  }

  // ---- Maintenance (one member) ----

  /** One member's status; with `hashKv`, also the hash of its key/value data (reads every key). */
  status(endpoint = this.endpoints[0], opts: {hashKv?: boolean} = {}): Promise<StatusResponse> {
    return this.conn.callOne(MaintenanceClient, endpoint,
      {what: 'status', method: m((c) => c.status), idempotent: true, request: {hashKv: opts.hashKv ?? false}})
  }

  /** Status of every endpoint; an unreachable one has `error` instead of `status`. */
  statusAll(): Promise<Array<{endpoint: string, status?: StatusResponse, error?: ClientError}>> {
    return Promise.all(this.endpoints.map(async (endpoint) => {
      try {
        return {endpoint, status: await this.status(endpoint)}
      } catch (err) {
        return {endpoint, error: err as ClientError}
      }
    }))
  }

  health(endpoint = this.endpoints[0], opts: {serializable?: boolean} = {}): Promise<HealthResponse> {
    return this.conn.callOne(MaintenanceClient, endpoint,
      {what: 'health', method: m((c) => c.health), idempotent: true, request: {serializable: opts.serializable ?? false}})
  }

  /**
   * Downloads the member's snapshot file: resolves once the first piece arrived (with what the
   * snapshot covers and its size); its `chunks` yield the file and check the CRC-32 at the end.
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

  private cluster<Req, Res>(what: string, f: (c: ClusterClient) => unknown, request: Req, idempotent: boolean): Promise<Res> {
    return this.conn.call(ClusterClient, {what, method: m<ClusterClient, Req, Res>(f), idempotent, request, check: LIST_MEMBERS})
  }
}
