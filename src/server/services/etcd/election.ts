/**
 * etcd's Election service (v3electionpb.Election) as etcd 3.4's v3election server runs it: each
 * call runs the Election recipe (src/client/concurrency/election.ts) through an etcd client of
 * the server's own client port (recipes.ts), so its elections are the same keys as those of
 * etcdctl elect and of every clientv3 Election. test/server/etcd_election.test.ts compares its
 * answers with etcd's own service.
 *
 * - Campaign(name, lease, value) waits until elected and answers the LeaderKey (name, key, the
 *   key's create revision, lease) that Proclaim and Resign take. Lease 0 makes the server grant a
 *   lease of 60 s that nobody keeps alive, as etcd. A call cancelled while waiting withdraws.
 * - Proclaim and Resign act on the given LeaderKey only while that key still has the given
 *   create revision (Proclaim otherwise fails with UNKNOWN "election: not leader"; Resign then
 *   does nothing and still answers a header). Without a LeaderKey both fail with etcd's UNKNOWN
 *   '"leader" field must be provided'.
 * - Leader answers the leader's key and value (UNKNOWN "election: no leader" if none); Observe
 *   streams the leader and every later change, and ends (OK) if the recipe's watch fails, as
 *   etcd's does.
 */
import type {Server, ServerWritableStream} from '@grpc/grpc-js'
import {detachedLease, Election} from '../../../client/concurrency/index.js'
import {
  type CampaignRequest, type CampaignResponse, type ElectionServer, ElectionService, type LeaderKey, type LeaderRequest,
  type LeaderResponse, type ProclaimRequest, type ProclaimResponse, type ResignRequest, type ResignResponse,
} from '../../../generated/etcd/v3electionpb/v3election.js'
import {checkedDecoding, requestOf} from '../common.js'
import {
  callSignal, type EtcdClientFactory, InnerClient, MISSING_LEADER_KEY, recipeStatus, recipeUnary, type RecipeServices,
} from './recipes.js'

/** The lease etcd's election server gives the sessions of Leader and Observe (they put no key). */
const NO_SESSION_LEASE = -1n

/** The election a LeaderKey names, resumed with the key's lease (etcd's ResumeElection). */
async function resumed(inner: InnerClient, leader: LeaderKey | undefined, signal: AbortSignal): Promise<Election> {
  if (leader === undefined) throw new Error(MISSING_LEADER_KEY)
  const holder = await detachedLease(inner.get(), leader.lease, signal)
  return Election.resume(holder, leader.name, leader.key, leader.rev)
}

/**
 * Streams the election's leader changes until the call ends. When the recipe's read or watch
 * fails the stream ends with OK, as etcd's (its Observe channel just closes); a request that does
 * not decode is refused with INVALID_ARGUMENT.
 */
async function observe(inner: InnerClient, call: ServerWritableStream<LeaderRequest, LeaderResponse>): Promise<void> {
  const signal = callSignal(call)
  let req: LeaderRequest
  try {
    req = requestOf(call)
  } catch (err) {
    call.emit('error', recipeStatus(err))
    return
  }
  try {
    const e = Election.create({client: inner.get(), lease: NO_SESSION_LEASE}, req.name)
    for await (const o of e.observe(signal)) {
      if (!call.write({header: o.header, kv: o.kv})) await drained(call, signal)
    }
  } catch {
    // The recipe's watch or read failed: end the stream as etcd does.
  }
  if (!signal.aborted) call.end()
}

/** Resolves when `call` can take more writes, or the call ends. */
function drained(call: ServerWritableStream<LeaderRequest, LeaderResponse>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    call.once('drain', resolve)
    signal.addEventListener('abort', () => resolve(), {once: true})
  })
}

/** The Election service's handlers over `inner`. */
export function electionService(inner: InnerClient): ElectionServer {
  return {
    campaign: recipeUnary(async (req: CampaignRequest, signal): Promise<CampaignResponse> => {
      const holder = await detachedLease(inner.get(), req.lease, signal)
      const e = Election.create(holder, req.name)
      await e.campaign(req.value, signal)
      return {header: e.header, leader: {name: req.name, key: e.key, rev: e.rev, lease: holder.lease}}
    }),
    proclaim: recipeUnary(async (req: ProclaimRequest, signal): Promise<ProclaimResponse> => {
      const e = await resumed(inner, req.leader, signal)
      await e.proclaim(req.value, signal)
      return {header: e.header}
    }),
    leader: recipeUnary(async (req: LeaderRequest, signal): Promise<LeaderResponse> => {
      const res = await Election.create({client: inner.get(), lease: NO_SESSION_LEASE}, req.name).leader(signal)
      return {header: res.header, kv: res.kvs[0]}
    }),
    observe: (call) => void observe(inner, call),
    resign: recipeUnary(async (req: ResignRequest, signal): Promise<ResignResponse> => {
      const e = await resumed(inner, req.leader, signal)
      await e.resign(signal)
      return {header: e.header}
    }),
  }
}

/**
 * Registers v3electionpb.Election on `server`, its calls served through clients made by
 * `connect` (an etcd client of this server's own client port). Returns a handle whose close()
 * closes that client.
 */
export function registerElectionService(server: Server, connect: EtcdClientFactory): RecipeServices {
  const inner = new InnerClient(connect)
  server.addService(checkedDecoding(ElectionService), electionService(inner))
  return inner
}
