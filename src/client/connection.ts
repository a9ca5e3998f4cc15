/**
 * A connection to a cluster through a list of client endpoints. Keeps one gRPC client per
 * (service, endpoint), remembers which endpoint is the leader and which cluster the endpoints
 * belong to, and runs calls under one overall deadline.
 *
 * A call keeps trying until its deadline: in rounds over the known leader and every endpoint,
 * following leader hints, with a back-off (100 ms doubling to 1 s) between rounds, per the
 * rules of rpc.ts classifyFailure. A write whose outcome is unknown is never sent again. When
 * time runs out, the error says what happened (attempts.ts CallLog). An idempotent call keeps
 * a small slice of its time (RESERVE_FRACTION, at most MAX_RESERVE_MS) to ask, when its last
 * attempt timed out, whether that member knows a leader, so a read that could not complete
 * because no leader is known says so instead of only "timed out".
 *
 * Cluster identity: every response carries header.cluster_id (etcd's header). The first one seen is
 * the connection's cluster; an answer from another cluster is refused with an error naming both
 * ids and the endpoint (checkClusterId). Once the cluster is known, a write is sent to an endpoint
 * only after a NodeStatus answer from it (the extension service) showed the same cluster, so a write never lands in another
 * cluster given by mistake in the same endpoint list.
 */
import {type Client, credentials, type ServiceError, status} from '@grpc/grpc-js'
import {type NodeStatusResponse, RaftctlClient as RaftctlServiceClient} from '../generated/raftctl/v1/raftctl.js'
import {CallLog, Round} from './attempts.js'
import {
  type CallSpec, ClientError, classifyFailure, invoke, isOwnDeadline, leaderHint, outcomeUnknownError, toClientError,
  type UnaryFn,
} from './rpc.js'

/** A ts-proto grpc-js client constructor. */
export type ClientCtor<C extends Client> = new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => C

export interface ConnectionOptions {
  /** Overall time budget of one call, retries included. */
  readonly timeoutMs: number
}

const BACKOFF_MS = 100
const MAX_BACKOFF_MS = 1000
/**
 * A retry starts only with at least this much time left: a write sent a moment before its
 * deadline would time out at once with an outcome that is unknown, though the call had found
 * nobody to take it (the first attempt always goes out).
 */
const MIN_ATTEMPT_MS = 50
/** Share of an idempotent call's budget kept to find out why its last attempt timed out. */
const RESERVE_FRACTION = 0.1
const MAX_RESERVE_MS = 500

/** One attempt's outcome; `idempotent` is false only when the failed request was a write. */
type Attempt<Res> = {ok: true, res: Res} | {ok: false, err: unknown, idempotent: boolean}

export class ClusterConnection {
  /** Clients by constructor, then endpoint (generated constructors all share one `name`). */
  private readonly clients = new Map<ClientCtor<Client>, Map<string, Client>>()
  private leader: string | undefined
  /** The cluster of the first answer, and the endpoint that gave it. */
  private cluster: {readonly id: number, readonly endpoint: string} | undefined
  /** Endpoints whose answers showed `cluster`'s id. */
  private readonly verified = new Set<string>()

  constructor(readonly endpoints: readonly string[], readonly options: ConnectionOptions) {
    if (endpoints.length === 0) throw new Error('no endpoints given')
  }

  /** The endpoint last seen to be the leader, if any. */
  get leaderEndpoint(): string | undefined {
    return this.leader
  }

  /** The cluster id of the first answer, once one arrived. */
  get clusterId(): number | undefined {
    return this.cluster?.id
  }

  /** Returns (creating once) the client of `ctor`'s service at `endpoint`. */
  client<C extends Client>(ctor: ClientCtor<C>, endpoint: string): C {
    let byEndpoint = this.clients.get(ctor)
    if (byEndpoint === undefined) this.clients.set(ctor, byEndpoint = new Map())
    let c = byEndpoint.get(endpoint)
    if (c === undefined) {
      c = new ctor(endpoint, credentials.createInsecure())
      byEndpoint.set(endpoint, c)
    }
    return c as C
  }

  /** A deadline `timeoutMs` from now (or the given override). */
  deadline(timeoutMs = this.options.timeoutMs): Date {
    return new Date(Date.now() + timeoutMs)
  }

  /**
   * Checks the cluster id in an answer's header (any response with etcd's or raftctl's header,
   * or undefined) from `endpoint`: the first id seen becomes the connection's; another one is
   * refused with a FAILED_PRECONDITION ClientError naming both ids and the endpoint. etcd's
   * headers carry the id as a bigint; raftctl's cluster ids are below 2^53, so it is compared as
   * a number.
   */
  checkClusterId(endpoint: string, answer: unknown): void {
    const raw = (answer as {header?: {clusterId?: unknown}} | undefined)?.header?.clusterId
    const id = typeof raw === 'bigint' ? Number(raw) : raw
    if (typeof id !== 'number' || id === 0) return
    if (this.cluster === undefined) this.cluster = {id, endpoint}
    else if (id !== this.cluster.id) {
      throw new ClientError(status.FAILED_PRECONDITION, `${endpoint} belongs to cluster ${id}, but ${this.cluster.endpoint} to cluster ` +
        `${this.cluster.id}: --endpoints mixes members of two clusters; give the client addresses of one cluster only`, endpoint)
    }
    this.verified.add(endpoint)
  }

  /** One call to one endpoint with the client's deadline: no redirects or retries. */
  async callOne<C extends Client, Req, Res>(ctor: ClientCtor<C>, endpoint: string, spec: CallSpec<C, Req, Res>): Promise<Res> {
    let res: Res
    try {
      res = await invoke(spec.method(this.client(ctor, endpoint)), spec.request, this.deadline(), spec.metadata)
    } catch (err) {
      throw toClientError(err, spec.what, endpoint)
    }
    this.checkClusterId(endpoint, res)
    return res
  }

  /**
   * Runs a unary call against the cluster until it succeeds, fails for good, or its deadline
   * passes; see the module comment.
   */
  async call<C extends Client, Req, Res>(ctor: ClientCtor<C>, spec: CallSpec<C, Req, Res>, timeoutMs = this.options.timeoutMs): Promise<Res> {
    const deadline = Date.now() + timeoutMs
    const until = spec.idempotent ? deadline - Math.min(MAX_RESERVE_MS, Math.floor(timeoutMs * RESERVE_FRACTION)) : deadline
    const log = new CallLog(spec.what, this.endpoints)
    let backoff = BACKOFF_MS
    let last: ClientError | undefined
    const hasTime = (): boolean => last === undefined || until - Date.now() >= MIN_ATTEMPT_MS
    // Each round is finite (Round) and ends with a back-off of at least BACKOFF_MS, so the
    // rounds fit in the deadline: the count bound only guards against a clock that stands still.
    for (let rounds = 0; rounds <= Math.ceil(timeoutMs / BACKOFF_MS) && hasTime(); rounds++) {
      const round = new Round(this.leader, this.endpoints)
      for (let endpoint = round.next(); endpoint !== undefined && hasTime(); endpoint = round.next()) {
        const r = await this.attempt(ctor, spec, endpoint, until)
        if (r.ok) return r.res
        last = toClientError(r.err, spec.what, endpoint)
        const kind = classifyFailure(r.err, r.idempotent, endpoint)
        if (kind === 'unknown') throw outcomeUnknownError(r.err as ServiceError, spec, endpoint, timeoutMs)
        if (kind === 'final') throw await this.finalFailure(r.err, last, log, deadline)
        this.note(kind, endpoint, r.err as ServiceError, last, log, round)
      }
      await sleep(Math.min(backoff, until - Date.now()))
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)
    }
    throw log.finalError(last)
  }

  /** Records a failure that the call survives, and follows a leader hint. */
  private note(kind: 'unreachable' | 'redirect' | 'no-leader' | 'retry' | 'busy', endpoint: string, err: ServiceError,
    e: ClientError, log: CallLog, round: Round): void {
    if (kind === 'unreachable') {
      if (this.leader === endpoint) this.leader = undefined
      log.unreachable(endpoint)
    } else if (kind === 'redirect') {
      const hint = leaderHint(err)!
      this.leader = hint
      log.redirect(endpoint, hint)
      round.redirect(hint)
    } else if (kind === 'no-leader') log.noLeader(endpoint, e.message)
    else if (kind === 'busy') log.busy(endpoint, e.message)
    else log.other(endpoint)
  }

  /**
   * One attempt at `endpoint`. Before a write to an endpoint not yet seen in this connection's
   * cluster, a status answer from it must show the same cluster; a failure of that check is
   * reported as the failure of an idempotent request (the write was not sent).
   */
  private async attempt<C extends Client, Req, Res>(ctor: ClientCtor<C>, spec: CallSpec<C, Req, Res>, endpoint: string, until: number): Promise<Attempt<Res>> {
    if (!spec.idempotent && this.cluster !== undefined && !this.verified.has(endpoint)) {
      try {
        this.checkClusterId(endpoint, await this.status(endpoint, until))
      } catch (err) {
        if (err instanceof ClientError) throw err
        return {ok: false, err, idempotent: true}
      }
    }
    let res: Res
    try {
      res = await invoke(spec.method(this.client(ctor, endpoint)), spec.request, new Date(until), spec.metadata)
    } catch (err) {
      return {ok: false, err, idempotent: spec.idempotent}
    }
    this.checkClusterId(endpoint, res)
    return {ok: true, res}
  }

  /**
   * The error of an attempt that failed for good. When an idempotent call timed out on its own
   * deadline, the member is asked (within the call's reserved time) whether it knows a leader:
   * if not, the error says that no leader is known.
   */
  private async finalFailure(err: unknown, e: ClientError, log: CallLog, deadline: number): Promise<ClientError> {
    if (!isOwnDeadline(err as ServiceError) || e.endpoint === undefined) return e
    const st = await this.status(e.endpoint, deadline).catch(() => undefined)
    if (st !== undefined && st.leader === 0) log.knowsNoLeader(e.endpoint, st.id)
    return log.sawNoLeader ? log.finalError(e) : e
  }

  /** The NodeStatus of the member at `endpoint` (its id, leader and cluster), with a deadline. */
  private status(endpoint: string, deadline: number): Promise<NodeStatusResponse> {
    const c = this.client(RaftctlServiceClient, endpoint)
    return invoke(c.nodeStatus.bind(c) as UnaryFn<object, NodeStatusResponse>, {}, new Date(deadline))
  }

  /** Records the leader's endpoint (from a status answer). */
  setLeader(endpoint: string | undefined): void {
    this.leader = endpoint
  }

  /** Closes every channel. */
  close(): void {
    for (const byEndpoint of this.clients.values()) for (const c of byEndpoint.values()) c.close()
    this.clients.clear()
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)))
}
