/**
 * The scenarios the Lock and Election service tests run against etcd's own services and against
 * ours (over etcd in etcd_lock.test.ts / etcd_election.test.ts, and on a raftctl cluster in
 * etcd_recipes_raftctl.test.ts); their transcripts are compared after normalize().
 */
import type {ServiceError} from '@grpc/grpc-js'
import type {EtcdClient} from '../../src/client/concurrency/index.js'
import {rangeRequest} from '../../src/client/concurrency/etcd.js'
import type {ElectionClient, LeaderResponse} from '../../src/generated/etcd/v3electionpb/v3election.js'
import type {LockClient} from '../../src/generated/etcd/v3lockpb/v3lock.js'
import {call} from '../compat/etcd_grpc.js'
import {waitFor} from '../integration/harness.js'
import {record, type Step, waitKeys} from './etcd_lock_helpers.js'

const b = (s: string): Buffer => Buffer.from(s)

/** A sequence of Lock/Unlock calls covering success, waiting, cancellation and every error seen. */
export async function lockScenario(lock: LockClient, kv: EtcdClient, name: string): Promise<{t: Step[], base: number}> {
  const t: Step[] = []
  const [l1, l2] = [(await kv.leaseGrant(30)).ID, (await kv.leaseGrant(30)).ID]
  const base = (await kv.range(rangeRequest(b(name)))).header!.revision
  await record(t, 'lock with l1', call(lock, lock.lock, {name: b(name), lease: l1}))
  await record(t, 'lock with an unknown lease', call(lock, lock.lock, {name: b(name), lease: 0x1234n}))
  await record(t, 'lock with l2 until the deadline', call(lock, lock.lock, {name: b(name), lease: l2}, {}, 500))
  await waitKeys(kv, name, 1)
  const waiting = call(lock, lock.lock, {name: b(name), lease: l2}, {}, 15_000)
  await waitKeys(kv, name, 2)
  await record(t, 'unlock l1', call(lock, lock.unlock, {key: b(`${name}/${l1.toString(16)}`)}))
  await record(t, 'the waiting lock with l2', waiting)
  await record(t, 'lock again with l2 (held)', call(lock, lock.lock, {name: b(name), lease: l2}))
  await record(t, 'unlock a missing key', call(lock, lock.unlock, {key: b(`${name}/none`)}))
  await record(t, 'unlock an empty key', call(lock, lock.unlock, {key: b('')}))
  await record(t, 'unlock l2', call(lock, lock.unlock, {key: b(`${name}/${l2.toString(16)}`)}))
  const zero = `${name}-zero`
  await record(t, 'lock with lease 0', call(lock, lock.lock, {name: b(zero), lease: 0n}))
  const granted = (await kv.range({...rangeRequest(b(`${zero}/`)), rangeEnd: b(`${zero}0`)})).kvs[0].lease
  await record(t, 'the lease granted for lease 0 is kept by nobody', kv.leaseRevoke(granted).then(() => 'revoked'))
  await kv.leaseRevoke(l1)
  await kv.leaseRevoke(l2)
  return {t, base}
}

/** An Observe stream's answers, collected until stop(). */
function observeStream(el: ElectionClient, name: string): {seen: LeaderResponse[], stop: () => {error?: string}} {
  const seen: LeaderResponse[] = []
  let error: string | undefined
  const stream = el.observe({name: b(name)}, {deadline: Date.now() + 60_000})
  stream.on('data', (r: LeaderResponse) => seen.push(r))
  stream.on('error', (e: ServiceError) => { if (e.code !== 1) error = `${e.code} ${e.details}` })
  return {seen, stop: () => { stream.cancel(); return error === undefined ? {} : {error} }}
}

/** Campaign, Proclaim, Leader, Resign and Observe, covering every answer and error etcd gives. */
export async function electionScenario(el: ElectionClient, kv: EtcdClient, name: string): Promise<{t: Step[], base: number}> {
  const t: Step[] = []
  const [l1, l2] = [(await kv.leaseGrant(30)).ID, (await kv.leaseGrant(30)).ID]
  const base = (await kv.range(rangeRequest(b(name)))).header!.revision
  await record(t, 'leader of an empty election', call(el, el.leader, {name: b(name)}))
  await record(t, 'proclaim without a leader key', call(el, el.proclaim, {leader: undefined, value: b('x')}))
  await record(t, 'resign without a leader key', call(el, el.resign, {leader: undefined}))
  const obs = observeStream(el, name)
  const first = await call(el, el.campaign, {name: b(name), lease: l1, value: b('v1')})
  t.push(['campaign with l1', first])
  // The observer must have seen v1 before anything changes: otherwise whether its first answer
  // comes from its initial read or from its watch (and so its header revision) depends on timing.
  await waitFor('observe to see v1', () => obs.seen.some((r) => Buffer.from(r.kv?.value ?? []).toString() === 'v1'),
    {timeoutMs: 5000, intervalMs: 20})
  const leader = first.leader!
  await record(t, 'leader', call(el, el.leader, {name: b(name)}))
  await record(t, 'proclaim v2', call(el, el.proclaim, {leader, value: b('v2')}))
  await record(t, 'proclaim with a wrong revision', call(el, el.proclaim, {leader: {...leader, rev: leader.rev + 100}, value: b('x')}))
  await record(t, 'resign with a wrong revision', call(el, el.resign, {leader: {...leader, rev: leader.rev + 100}}))
  await record(t, 'campaign with an unknown lease', call(el, el.campaign, {name: b(name), lease: 0x1234n, value: b('x')}))
  await record(t, 'campaign with l2 until the deadline', call(el, el.campaign, {name: b(name), lease: l2, value: b('w')}, {}, 500))
  await waitKeys(kv, name, 1)
  const waiting = call(el, el.campaign, {name: b(name), lease: l2, value: b('w')}, {}, 15_000)
  await waitKeys(kv, name, 2)
  await record(t, 'resign l1', call(el, el.resign, {leader}))
  await record(t, 'the waiting campaign with l2', waiting)
  await record(t, 'campaign again with l2 and a new value', call(el, el.campaign, {name: b(name), lease: l2, value: b('w2')}))
  await waitFor('observe to see w2', () => obs.seen.some((r) => Buffer.from(r.kv?.value ?? []).toString() === 'w2'),
    {timeoutMs: 5000, intervalMs: 20})
  t.push(['observe', {...obs.stop(), seen: obs.seen}])
  await record(t, 'campaign with lease 0', call(el, el.campaign, {name: b(`${name}-zero`), lease: 0n, value: b('z')}))
  const granted = (await kv.range({...rangeRequest(b(`${name}-zero/`)), rangeEnd: b(`${name}-zero0`)})).kvs[0].lease
  await kv.leaseRevoke(granted)
  await kv.leaseRevoke(l1)
  await kv.leaseRevoke(l2)
  return {t, base}
}

