/**
 * How a node that is not a founding member learns which cluster it belongs to, before it creates
 * its data dir:
 *
 * - joinCluster (--join <client endpoint>): asks the cluster to add this node as a learner
 *   (etcd's Cluster.MemberAdd with its advertised peer URL, and its id in metadata
 *   `raftctl-member-id`); any member serves it (a follower forwards it to the leader), and it is
 *   retried while no leader is known. The answer's header carries the cluster id and its member
 *   list the peers; the node publishes its name and client URL itself once it runs. When this id
 *   is already a member with the same peer URL (a retried join after a crash) the node proceeds
 *   with the current member list.
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
  ClusterClient, type Member, type MemberAddRequest, type MemberAddResponse, type MemberListRequest, type MemberListResponse,
} from '../generated/etcd/etcdserverpb/cluster.js'
import type {ResponseHeader} from '../generated/etcd/etcdserverpb/header.js'
import {type IdentifyRequest, type IdentifyResponse, PeerInfoClient} from '../generated/raftctl/v1/internal.js'
import {CodedError, withCode} from '../raft/errors.js'
import {checkedUint, decodeDetail, DETAIL_KEY, MEMBER_ID_KEY, parseEndpoint} from '../raftpb/index.js'
import {type MemberInfo, memberFromWire} from '../storage/index.js'
import type {ServerConfig} from './config.js'
import {ConfigError} from './config.js'
import {ETCD_ERRORS} from './errors.js'
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

function call<Req, Res>(fn: Unary<Req, Res>, req: Req, timeoutMs = CALL_TIMEOUT_MS, md = new Metadata()): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn(req, md, {deadline: new Date(Date.now() + timeoutMs)}, (err, res) => (err ? reject(err) : resolve(res)))
  })
}

/**
 * The gRPC status name of a failed call and what the server said (raftctl's explanation when it
 * sent one), for log lines and messages.
 */
function failure(err: unknown): {code: string, reason: string} {
  const se = err as Partial<ServiceError>
  const d = se.metadata?.get(DETAIL_KEY)?.[0]
  const reason = typeof d === 'string' && d !== '' ? decodeDetail(d) : se.details || (err as Error).message
  return {code: se.code === undefined ? 'UNKNOWN' : status[se.code] ?? String(se.code), reason}
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

/** etcd's member records as raftctl's (URLs back to host:port; ids checked). */
function toMembers(list: readonly Member[]): MemberInfo[] {
  const address = (u: string): string => parseEndpoint('member URL', u).address
  return list.map((m) => ({
    id: checkedUint('member id', m.ID), name: m.name, peerUrls: m.peerURLs.map(address), clientUrls: m.clientURLs.map(address),
  }))
}

const clusterIdOf = (h: ResponseHeader | undefined): number => checkedUint('cluster id', h?.clusterId ?? 0n)

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
  const endpoint = cfg.join!
  const md = new Metadata()
  md.set(MEMBER_ID_KEY, String(cfg.id))
  let last = ''
  let delay = RETRY_MS
  log.info({event: 'joining', via: endpoint, id: cfg.id, advertisePeer: cfg.advertisePeer},
    `asking the cluster at ${endpoint} to add node ${cfg.id} as a learner`)
  for (let attempt = 1; Date.now() < deadline; attempt++) {
    try {
      const res = await abortable(withClient(ClusterClient, endpoint, (c) => call<MemberAddRequest, MemberAddResponse>(c.memberAdd.bind(c),
        {peerURLs: [cfg.advertisePeer], isLearner: true}, CALL_TIMEOUT_MS, md)), what, signal)
      const clusterId = clusterIdOf(res.header)
      log.info({event: 'joined', via: endpoint, clusterId, members: res.members.map((m) => Number(m.ID))},
        'the cluster added this node as a learner')
      return {clusterId, members: toMembers(res.members)}
    } catch (err) {
      if (err instanceof StartAborted) throw err
      const se = err as ServiceError
      if (se.code === ETCD_ERRORS.memberExists.code && se.details === ETCD_ERRORS.memberExists.message) {
        return rejoin(cfg, endpoint, log, failure(err).reason)
      }
      if (se.code !== status.UNAVAILABLE && se.code !== status.DEADLINE_EXCEEDED) {
        throw new ConfigError(`--join ${cfg.join}: the cluster refused to add node ${cfg.id}: ${failure(err).reason}`)
      }
      const f = failure(err)
      last = f.reason
      log.warn({event: 'join-attempt-failed', attempt, via: endpoint, code: f.code, reason: f.reason, retryInMs: delay},
        `could not join through ${endpoint} (attempt ${attempt}): ${f.reason}; retrying in ${delay} ms`)
      await sleep(delay, what, signal)
      delay = Math.min(2 * delay, MAX_RETRY_MS)
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
  const clusterId = clusterIdOf(res.header)
  log.info({event: 'joined', via: endpoint, clusterId}, 'this node was already added to the cluster; continuing')
  return {clusterId, members}
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
