/**
 * etcd's Lease service over the replicated leases (src/lease) and this node's Lessor driver.
 * Any member serves every call; what only the leader knows goes to the leader:
 *
 * - LeaseGrant and LeaseRevoke run on the leader (a follower forwards the whole call, forward.ts),
 *   which answers once it applied the entry — so its Lessor knows the new lease, or no longer
 *   knows the revoked one, before the client hears back. A grant's id (when the client sent 0)
 *   and its TTL raised to the minimum (1.5 election timeouts, as etcd) are chosen before
 *   proposing, so every member applies the same grant; a TTL that is not positive or above etcd's
 *   maximum is refused. A revoke deletes the lease's keys in one revision.
 * - LeaseKeepAlive (a stream): each request renews the lease on the leader's Lessor, for its full
 *   TTL, and is answered with that TTL (0 when the lease does not exist, as etcd). A follower
 *   forwards each request to the leader as a one-request call of the same method. Requests of a
 *   stream are answered in order; when the client ends its side, the stream ends once every
 *   request was answered.
 * - LeaseTimeToLive asks the leader's Lessor (forwarded like a grant): the seconds left, the
 *   granted TTL, and with `keys` the attached keys; an unknown lease answers TTL -1 as etcd.
 * - LeaseLeases lists the leases this member applied, after a linearizable read barrier.
 * A new leader answers lease calls once its Lessor is promoted (it applied an entry of its term).
 */
import type {Metadata, MethodDefinition, ServerDuplexStream, ServerUnaryCall} from '@grpc/grpc-js'
import type {ResponseHeader} from '../../../generated/etcd/etcdserverpb/header.js'
import {
  type LeaseGrantResponse, type LeaseKeepAliveRequest, type LeaseKeepAliveResponse, type LeaseLeasesResponse,
  type LeaseRevokeResponse, LeaseService, type LeaseServer, type LeaseTimeToLiveResponse,
} from '../../../generated/etcd/etcdserverpb/lease.js'
import {type ApplyResult} from '../../../kv/index.js'
import {checkLeaseId, checkpointEntry, formatLeaseId, LeaseError, prepareGrant, revokeEntry} from '../../../lease/index.js'
import {etcdError, NodeError, toServiceError} from '../../errors.js'
import type {LessorDriver} from '../../lessor_driver.js'
import type {RaftNode} from '../../node.js'
import {proposeKv, readBarrier} from '../../requests.js'
import {checkAccepting, etcdHeader, requestOf, requestOptions, type ServiceContext, timeLeft, unary} from '../common.js'

/** A keep-alive forwarded to the leader: one request, one answer, on the stream method's path. */
const KEEP_ALIVE_ONCE = {...LeaseService.leaseKeepAlive, requestStream: false, responseStream: false} as const

/** The header of a lease answer: this member's, at the revision `r` created or the store's. */
const leaseHeader = (node: RaftNode, r?: ApplyResult) => etcdHeader(node, r?.revision ?? node.kv.revision)

/**
 * The answer with this member's header (as etcd's lease server fills it on every member), keeping
 * the revision the leader gave it.
 */
const ownHeader = <T extends {header?: ResponseHeader}>(node: RaftNode, res: T): T =>
  ({...res, header: etcdHeader(node, res.header?.revision ?? node.kv.revision)})

/**
 * A unary Lease handler that runs on the leader: here when this node leads, otherwise the whole
 * call is forwarded to the leader; either way answered with this member's header.
 */
function onLeader<Req, Res extends {header?: ResponseHeader}>(ctx: ServiceContext, method: MethodDefinition<Req, Res>, name: string,
  fn: (req: Req, timeoutMs: number, call: ServerUnaryCall<Req, Res>) => Promise<Res>) {
  return unary<Req, Res>(ctx, name, async (req, ms, call) =>
    ownHeader(ctx.node, await ctx.forwarder.onLeader(method, req, call.metadata, ms, requestOptions(call.metadata), (left) => fn(req, left, call))))
}

export function etcdLeaseService(ctx: ServiceContext, driver: LessorDriver): LeaseServer {
  const node = ctx.node
  const leases = driver.leases

  /** Waits (within `ms`) for this leader's Lessor; a node that stopped leading meanwhile refuses, retry-safe. */
  async function leaderLessor(ms: number): Promise<void> {
    if (await driver.whenPromoted(ms)) return
    throw etcdError('notLeader', `node ${node.id} no longer leads (the leader is node ${node.leaderId || 'unknown'}), ` +
      'so it cannot answer for the leases; nothing was done, so it is safe to retry', {retrySafe: true})
  }

  /** Renews a lease on this leader; TTL 0 when it does not exist (or expired and was revoked). */
  async function keepAliveHere(id: bigint, ms: number): Promise<LeaseKeepAliveResponse> {
    const deadline = Date.now() + ms
    await leaderLessor(ms)
    const r = driver.lessor.keepAlive(id)
    if (r.kind === 'renewed') {
      if (r.reset !== undefined) {
        try {
          await proposeKv(node, {leaseCheckpoint: checkpointEntry([r.reset])}, Math.max(1, deadline - Date.now()))
        } catch (err) {
          if (err instanceof NodeError && err.retrySafe) driver.lessor.checkpointDropped(id)
          throw err
        }
      }
      return {header: leaseHeader(node), ID: id, TTL: r.ttl}
    }
    if (r.kind === 'expired') await revoked(id, Math.max(1, deadline - Date.now()))
    else if (r.kind === 'not-leader') await leaderLessor(Math.max(1, deadline - Date.now()))
    return {header: leaseHeader(node), ID: id, TTL: 0}
  }

  /** Waits until the revoke of an expired lease is applied here (etcd's Renew waits for it too). */
  async function revoked(id: bigint, ms: number): Promise<void> {
    const deadline = Date.now() + ms
    while (leases.exists(id)) {
      if (Date.now() >= deadline) {
        throw etcdError('timeout', `lease ${formatLeaseId(id)} expired, but its revoke was not applied within ${ms} ms`)
      }
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  /** Answers one keep-alive: here on the leader, else forwarded to it. */
  function keepAlive(req: LeaseKeepAliveRequest, md: Metadata, ms: number): Promise<LeaseKeepAliveResponse> {
    return ctx.forwarder.onLeader(KEEP_ALIVE_ONCE, req, md, ms, requestOptions(md), (left) => keepAliveHere(req.ID, left))
      .then((res) => ownHeader(node, res))
  }

  return {
    leaseGrant: onLeader(ctx, LeaseService.leaseGrant, 'LeaseGrant', async (req, ms): Promise<LeaseGrantResponse> => {
      const grant = prepareGrant(req, driver.grantPolicy)
      if (leases.exists(grant.ID)) throw LeaseError.exists(grant.ID)
      const r = await proposeKv(node, {leaseGrant: grant}, ms)
      const res = r.leaseGrant!
      return {...res, header: leaseHeader(node, r)}
    }),
    leaseRevoke: onLeader(ctx, LeaseService.leaseRevoke, 'LeaseRevoke', async (req, ms): Promise<LeaseRevokeResponse> => {
      const id = checkLeaseId(req.ID)
      if (!leases.exists(id)) throw LeaseError.notFound(id)
      const r = await proposeKv(node, {leaseRevoke: revokeEntry(id)}, ms)
      return {header: leaseHeader(node, r)}
    }),
    leaseTimeToLive: onLeader(ctx, LeaseService.leaseTimeToLive, 'LeaseTimeToLive', async (req, ms): Promise<LeaseTimeToLiveResponse> => {
      await leaderLessor(ms)
      const t = driver.lessor.timeToLive(req.ID)
      if (t.kind !== 'found') return {header: leaseHeader(node), ID: req.ID, TTL: -1, grantedTTL: 0, keys: []}
      return {header: leaseHeader(node), ID: req.ID, TTL: t.ttl, grantedTTL: t.grantedTtl, keys: req.keys ? leases.keysOf(req.ID) : []}
    }),
    leaseLeases: unary(ctx, 'LeaseLeases', async (_req, ms, call): Promise<LeaseLeasesResponse> => {
      await readBarrier(node, ms, requestOptions(call.metadata))
      return {header: leaseHeader(node), leases: leases.ids().map((ID) => ({ID}))}
    }),
    leaseKeepAlive: (call) => new KeepAliveStream(ctx, call, keepAlive).open(),
  }
}

/** One LeaseKeepAlive stream: requests answered in order, one at a time. */
class KeepAliveStream {
  private chain: Promise<void> = Promise.resolve()
  private closed = false

  constructor(
    private readonly ctx: ServiceContext,
    private readonly call: ServerDuplexStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse>,
    private readonly answer: (req: LeaseKeepAliveRequest, md: Metadata, ms: number) => Promise<LeaseKeepAliveResponse>,
  ) {}

  open(): void {
    try {
      checkAccepting(this.ctx)
    } catch (err) {
      this.fail(err)
      return
    }
    this.call.on('data', (req: LeaseKeepAliveRequest) => {
      this.chain = this.chain.then(() => this.handle(req))
    })
    this.call.on('end', () => {
      void this.chain.then(() => {
        if (!this.closed) this.call.end()
        this.closed = true
      })
    })
    for (const ev of ['cancelled', 'error', 'close'] as const) this.call.on(ev, () => { this.closed = true })
  }

  private async handle(raw: LeaseKeepAliveRequest): Promise<void> {
    if (this.closed) return
    try {
      checkAccepting(this.ctx)
      const req = requestOf({request: raw})
      const res = await this.answer(req, this.call.metadata, timeLeft(this.call))
      if (!this.closed) this.call.write(res)
    } catch (err) {
      this.fail(err)
    }
  }

  private fail(err: unknown): void {
    if (this.closed) return
    this.closed = true
    this.call.emit('error', toServiceError(err))
  }
}
