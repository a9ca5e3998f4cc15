/**
 * How a node that is not a founding member learns which cluster it belongs to, before it creates
 * its data dir:
 *
 * - joinCluster (--join <client endpoint>): asks the cluster to add this node as a learner
 *   (Cluster.MemberAdd with its id, name, advertised peer and client URLs), following the
 *   leader hint of a follower and retrying while no leader is known. The answer's header carries
 *   the cluster id and its member list the peers. When this id is already a member with the same
 *   peer URL (a retried join after a crash) the node proceeds with the current member list.
 * - identifyCluster (--initial-cluster-state existing): asks the members named in
 *   --initial-cluster over their peer address (PeerInfo.Identify) and requires that this node
 *   was added already (`raftctl member add`).
 *
 * Both retry with a delay that doubles from RETRY_MS up to MAX_RETRY_MS, log every failed attempt
 * at warn with its reason (so a dead endpoint is never a silent minute), give up after
 * JOIN_TIMEOUT_MS with one sentence saying what failed, and stop at once with StartAborted when
 * the operator stops the node meanwhile (SIGINT/SIGTERM). The server may not use src/client
 * (DESIGN.md §1), so this file speaks gRPC directly with the generated clients; identify() is
 * also what a node uses to ask its peers whether it still belongs (peer_check.ts).
 */
import {type Client, credentials, Metadata, type ServiceError, status} from '@grpc/grpc-js'
import {
  ClusterClient, type MemberAddRequest, type MemberAddResponse, type MemberListRequest, type MemberListResponse,
  type MemberStatus,
} from '../generated/raftctl/v1/cluster.js'
import {type IdentifyRequest, type IdentifyResponse, PeerInfoClient} from '../generated/raftctl/v1/internal.js'
import {CodedError, withCode} from '../raft/errors.js'
import {type MemberInfo, memberFromWire} from '../storage/index.js'
import type {ServerConfig} from './config.js'
import {ConfigError} from './config.js'
import {LEADER_HINT_KEY} from './errors.js'
import type {NodeLogger} from './logger.js'

export interface ClusterInfo {
  readonly clusterId: number
  readonly members: readonly MemberInfo[]
}

const JOIN_TIMEOUT_MS = 60_000
const CALL_TIMEOUT_MS = 5_000
const RETRY_MS = 500
const MAX_RETRY_MS = 5_000

type Unary<Req, Res> = (req: Req, md: Metadata, opts: {deadline: Date}, cb: (err: ServiceError | null, res: Res) => void) => unknown

function call<Req, Res>(fn: Unary<Req, Res>, req: Req, timeoutMs = CALL_TIMEOUT_MS): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn(req, new Metadata(), {deadline: new Date(Date.now() + timeoutMs)}, (err, res) => (err ? reject(err) : resolve(res)))
  })
}

/** The gRPC status name and details of a failed call, for log lines and messages. */
function failure(err: unknown): {code: string, reason: string} {
  const se = err as Partial<ServiceError>
  return {code: se.code === undefined ? 'UNKNOWN' : status[se.code] ?? String(se.code), reason: se.details || (err as Error).message}
}

/**
 * The node was asked to stop before it finished starting. Nothing was created locally; a MemberAdd
 * the cluster accepted just before is picked up by the next start with the same id and peer URL.
 */
export class StartAborted extends withCode(CodedError, 'START_ABORTED') {}

const aborted = (what: string): StartAborted => new StartAborted(`stopped while ${what}`)

/** Runs `p`, rejecting with StartAborted as soon as `signal` aborts. */
export function abortable<T>(p: Promise<T>, what: string, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return p
  if (signal.aborted) return Promise.reject(aborted(what))
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(aborted(what))
    signal.addEventListener('abort', onAbort, {once: true})
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

const sleep = (ms: number, what: string, signal?: AbortSignal): Promise<void> =>
  abortable(new Promise((r) => setTimeout(r, ms)), what, signal)

function toMembers(list: readonly MemberStatus[]): MemberInfo[] {
  return list.filter((s) => s.member !== undefined).map((s) => memberFromWire(s.member!))
}

/** Asks the node whose peer address is `address` who it is (PeerInfo.Identify), within timeoutMs. */
export function identify(address: string, askerId: number, timeoutMs = CALL_TIMEOUT_MS): Promise<IdentifyResponse> {
  return withClient(PeerInfoClient, address, (c) =>
    call<IdentifyRequest, IdentifyResponse>(c.identify.bind(c), {nodeId: askerId}, timeoutMs))
}

async function withClient<C extends Client, T>(ctor: new (a: string, c: ReturnType<typeof credentials.createInsecure>) => C, address: string, f: (c: C) => Promise<T>): Promise<T> {
  const c = new ctor(address, credentials.createInsecure())
  try {
    return await f(c)
  } finally {
    c.close()
  }
}

/** Adds this node to the cluster at cfg.join as a learner; see the module comment. */
export async function joinCluster(cfg: ServerConfig, log: NodeLogger, signal?: AbortSignal): Promise<ClusterInfo> {
  const deadline = Date.now() + JOIN_TIMEOUT_MS
  const what = `joining the cluster at ${cfg.join}`
  let endpoint = cfg.join!
  let last = ''
  let delay = RETRY_MS
  log.info({event: 'joining', via: endpoint, id: cfg.id, advertisePeer: cfg.advertisePeer},
    `asking the cluster at ${endpoint} to add node ${cfg.id} as a learner`)
  for (let attempt = 1; Date.now() < deadline; attempt++) {
    try {
      const res = await abortable(withClient(ClusterClient, endpoint, (c) => call<MemberAddRequest, MemberAddResponse>(c.memberAdd.bind(c), {
        id: cfg.id, name: cfg.name, peerUrls: [cfg.advertisePeer], clientUrls: [cfg.advertiseClient], isLearner: true, force: false,
      })), what, signal)
      log.info({event: 'joined', via: endpoint, clusterId: res.header?.clusterId, voters: res.confState?.voters,
        learners: res.confState?.learners}, 'the cluster added this node as a learner')
      return {clusterId: res.header!.clusterId, members: toMembers(res.members)}
    } catch (err) {
      if (err instanceof StartAborted) throw err
      const se = err as ServiceError
      const hint = se.metadata?.get(LEADER_HINT_KEY)?.[0]
      if (se.code === status.FAILED_PRECONDITION && typeof hint === 'string' && hint !== '' && hint !== endpoint) {
        endpoint = hint
        continue
      }
      if (se.code === status.ALREADY_EXISTS) return rejoin(cfg, endpoint, log, se.details)
      if (se.code !== status.UNAVAILABLE && se.code !== status.DEADLINE_EXCEEDED) {
        throw new ConfigError(`--join ${cfg.join}: the cluster refused to add node ${cfg.id}: ${se.details ?? se.message}`)
      }
      const f = failure(err)
      last = f.reason
      log.warn({event: 'join-attempt-failed', attempt, via: endpoint, code: f.code, reason: f.reason, retryInMs: delay},
        `could not join through ${endpoint} (attempt ${attempt}): ${f.reason}; retrying in ${delay} ms`)
      await sleep(delay, what, signal)
      delay = Math.min(2 * delay, MAX_RETRY_MS)
      endpoint = cfg.join!
    }
  }
  throw new ConfigError(`--join ${cfg.join}: could not add node ${cfg.id} to the cluster within ${JOIN_TIMEOUT_MS / 1000} s (${last})`)
}

/** The id exists already: proceed when it is this node (same peer URL), refuse otherwise. */
async function rejoin(cfg: ServerConfig, endpoint: string, log: NodeLogger, why: string): Promise<ClusterInfo> {
  const res = await withClient(ClusterClient, endpoint, (c) =>
    call<MemberListRequest, MemberListResponse>(c.memberList.bind(c), {linearizable: false}))
  const members = toMembers(res.members)
  const me = members.find((m) => m.id === cfg.id)
  if (me === undefined || !me.peerUrls.includes(cfg.advertisePeer)) {
    throw new ConfigError(`--join ${cfg.join}: ${why}; node ${cfg.id} is a member with peer URL ${me?.peerUrls.join(',') ?? '(none)'}, ` +
      `not ${cfg.advertisePeer}`)
  }
  log.info({event: 'joined', via: endpoint, clusterId: res.header?.clusterId}, 'this node was already added to the cluster; continuing')
  return {clusterId: res.header!.clusterId, members}
}

/** Asks the members of --initial-cluster who they are; see the module comment. */
export async function identifyCluster(cfg: ServerConfig, log: NodeLogger, signal?: AbortSignal): Promise<ClusterInfo> {
  const others = cfg.initialCluster.filter((m) => m.id !== cfg.id)
  if (others.length === 0) {
    throw new ConfigError(`--initial-cluster-state existing needs --initial-cluster to name at least one other member to ask`)
  }
  const deadline = Date.now() + JOIN_TIMEOUT_MS
  const problems = new Map<number, string>()
  const what = 'asking the members of --initial-cluster who they are'
  let delay = RETRY_MS
  for (let attempt = 1; Date.now() < deadline; attempt++) {
    for (const peer of others) {
      try {
        const res = await abortable(identify(peer.peerUrl, cfg.id), what, signal)
        const members = (res.members?.members ?? []).map(memberFromWire)
        if (!members.some((m) => m.id === cfg.id)) {
          throw new ConfigError(`node ${peer.id} at ${peer.peerUrl} says node ${cfg.id} is not a member of cluster ${res.clusterId}; ` +
            'add it first with raftctl member add')
        }
        log.info({event: 'identified', via: peer.peerUrl, clusterId: res.clusterId}, 'learned the cluster id from a member')
        return {clusterId: res.clusterId, members}
      } catch (err) {
        if (err instanceof ConfigError || err instanceof StartAborted) throw err
        problems.set(peer.id, failure(err).reason)
      }
    }
    const detail = [...problems].map(([id, p]) => `node ${id}: ${p}`).join('; ')
    log.warn({event: 'identify-attempt-failed', attempt, problems: Object.fromEntries(problems), retryInMs: delay},
      `no member of --initial-cluster answered (attempt ${attempt}: ${detail}); retrying in ${delay} ms`)
    await sleep(delay, what, signal)
    delay = Math.min(2 * delay, MAX_RETRY_MS)
  }
  const detail = [...problems].map(([id, p]) => `node ${id}: ${p}`).join('; ')
  throw new ConfigError(`--initial-cluster-state existing: no member of --initial-cluster answered within ${JOIN_TIMEOUT_MS / 1000} s (${detail})`)
}
