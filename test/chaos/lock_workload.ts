/**
 * The lock clients of a chaos run (issue 13's lock-safety check, judged by lock_checker.ts).
 *
 * Each client loops until stopped: it opens a Session (a short TTL) on a random member's client
 * port and, while the session lives, takes a random one of a few locks with etcd's Mutex recipe
 * (with a deadline), holds it for a random time (mostly short, sometimes longer than the TTL) and
 * unlocks it. Every acquisition is
 * recorded: when lock() returned, when the client stopped holding (unlock called, the session
 * reported its loss, or the run ended), and the session's loss if it came first.
 *
 * The leases are observed by the harness itself: each client's EtcdClient records, on the run's
 * monotonic clock, when each grant and keep-alive request was sent and when its answer arrived
 * with which TTL (LeaseTrail), so the checker computes each lease's validity bound from what
 * happened on the wire, not from what the Session believed.
 *
 * A session whose unlock or lock attempt ended with an unknown outcome is closed (its lease
 * revoked, or left to expire) and the client starts a new one, so a key it may still own never
 * gives a later tenure an old fencing revision.
 */
import type {ClientDuplexStream} from '@grpc/grpc-js'
import {EtcdClient, leaseHex, Mutex, Session} from '../../src/client/concurrency/index.js'
import type {LeaseGrantResponse, LeaseKeepAliveRequest, LeaseKeepAliveResponse} from '../../src/generated/etcd/etcdserverpb/lease.js'
import type {LeaseTrail, LockHistory, LockRecord} from './lock_checker.js'
import type {Rng} from './rng.js'
import {nowNs} from './workload.js'

export interface LockWorkloadOptions {
  readonly endpoints: readonly string[]
  readonly clients: number
  /** Number of lock names (chaos/lock0 ...). */
  readonly locks: number
  /** Session TTL in seconds. */
  readonly ttlSeconds: number
  /** Deadline of one lock() (waiting included) and of each recipe call. */
  readonly lockTimeoutMs: number
  /** Holding time of most acquisitions is drawn from [min, max] ms. */
  readonly holdMs: readonly [number, number]
  /**
   * A quarter of the acquisitions hold for a time drawn from [min, max] ms instead: as long as
   * the TTL or longer, so that faults stop keep-alives while a lock is held and the lease, not the
   * unlock, ends some tenures.
   */
  readonly longHoldMs: readonly [number, number]
}

export const lockName = (i: number): string => `chaos/lock${i}`

/** The acquisitions and lease trails of a run; shared by every lock client. */
export class LockRecorder implements LockHistory {
  readonly acquisitions: LockRecord[] = []
  readonly leases: LeaseTrail[] = []
  private readonly byLease = new Map<string, LeaseTrail>()

  constructor(readonly t0: bigint) {}

  now(): number {
    return nowNs(this.t0)
  }

  granted(clientId: number, res: LeaseGrantResponse, sentAt: number): void {
    const trail: LeaseTrail = {clientId, lease: leaseHex(res.ID), grantSentAt: sentAt, ttl: res.TTL, keepAlives: [], lostAt: null, lostReason: null}
    this.leases.push(trail)
    this.byLease.set(trail.lease, trail)
  }

  keptAlive(res: LeaseKeepAliveResponse, sentAt: number): void {
    this.byLease.get(leaseHex(res.ID))?.keepAlives.push([sentAt, this.now(), res.TTL])
  }

  /** When the session of `lease` reported its end (null while it lives). */
  lostAt(lease: string): number | null {
    return this.byLease.get(lease)?.lostAt ?? null
  }

  lost(lease: bigint, reason: string): void {
    const t = this.byLease.get(leaseHex(lease))
    if (t !== undefined && t.lostAt === null) {
      t.lostAt = this.now()
      t.lostReason = reason
    }
  }
}

/** An EtcdClient that records every lease grant and keep-alive on the run's clock. */
class ObservedEtcdClient extends EtcdClient {
  constructor(endpoint: string, private readonly rec: LockRecorder, private readonly clientId: number, callTimeoutMs: number) {
    super(endpoint, {callTimeoutMs})
  }

  override async leaseGrant(ttlSeconds: number, signal?: AbortSignal): Promise<LeaseGrantResponse> {
    const sentAt = this.rec.now()
    const res = await super.leaseGrant(ttlSeconds, signal)
    if (res.error === '') this.rec.granted(this.clientId, res, sentAt)
    return res
  }

  /** The stream with its writes timed; answers are matched to requests in order, as Session does. */
  override keepAliveStream(): ClientDuplexStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse> {
    const stream = super.keepAliveStream()
    const sent: number[] = []
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean
    stream.write = ((...args: unknown[]): boolean => {
      sent.push(this.rec.now())
      return write(...args)
    }) as typeof stream.write
    stream.on('data', (res: LeaseKeepAliveResponse) => this.rec.keptAlive(res, sent.shift() ?? this.rec.now()))
    return stream
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Holds for `ms`, or less when the session ends first. */
async function hold(session: Session, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([session.done, new Promise<void>((r) => { timer = setTimeout(r, ms) })])
  clearTimeout(timer)
}

/**
 * One acquisition with `session`: lock, hold, unlock. Returns false when the session must be
 * given up (it ended, or a call's outcome is unknown so the client may still own a key).
 */
async function acquireOnce(id: number, session: Session, opts: LockWorkloadOptions, rng: Rng, rec: LockRecorder): Promise<boolean> {
  const lock = lockName(rng.int(0, opts.locks - 1))
  const mutex = new Mutex(session, lock)
  try {
    await mutex.lock(AbortSignal.timeout(opts.lockTimeoutMs))
  } catch {
    // The wait path withdraws the key itself; after a failed first Txn the key may exist.
    return false
  }
  const acquiredAt = rec.now()
  const r: {-readonly [K in keyof LockRecord]: LockRecord[K]} = {
    clientId: id, lock, lease: leaseHex(session.lease), key: Buffer.from(mutex.key).toString(), revision: mutex.revision,
    acquiredAt, releasedAt: null, leaseLostAt: null,
  }
  rec.acquisitions.push(r)
  const [lo, hi] = rng.chance(0.25) ? opts.longHoldMs : opts.holdMs
  if (session.ended === undefined) await hold(session, rng.int(lo, hi))
  r.releasedAt = rec.now()
  r.leaseLostAt = session.ended === undefined ? null : rec.lostAt(r.lease)
  if (session.ended !== undefined) return false
  try {
    await mutex.unlock(AbortSignal.timeout(opts.lockTimeoutMs))
    return true
  } catch {
    return false
  }
}

/** One lock client: sessions on random members, acquisitions while each lives, until `stop()`. */
async function lockClient(id: number, opts: LockWorkloadOptions, rng: Rng, rec: LockRecorder, stop: () => boolean): Promise<void> {
  for (let s = 0; s < 100_000 && !stop(); s++) {
    const client = new ObservedEtcdClient(rng.pick(opts.endpoints), rec, id, opts.lockTimeoutMs)
    try {
      let session: Session
      try {
        session = await Session.create(client, {ttl: opts.ttlSeconds, signal: AbortSignal.timeout(opts.lockTimeoutMs)})
      } catch {
        await sleep(200)
        continue
      }
      session.onEnd((end) => rec.lost(session.lease, end.reason))
      for (let i = 0; i < 100_000 && !stop() && session.ended === undefined; i++) {
        if (!await acquireOnce(id, session, opts, rng, rec)) break
      }
      if (session.ended === undefined) await session.close(AbortSignal.timeout(opts.lockTimeoutMs)).catch(() => undefined)
    } finally {
      client.close()
    }
  }
}

/** Runs `opts.clients` lock clients (ids from `firstId`) until `stop()`; resolves when all ended. */
export async function runLockClients(opts: LockWorkloadOptions, firstId: number, rng: Rng, rec: LockRecorder, stop: () => boolean): Promise<void> {
  if (opts.locks < 1) throw new Error('the lock workload needs at least one lock')
  await Promise.all(Array.from({length: opts.clients}, (_, i) => lockClient(firstId + i, opts, rng.fork(), rec, stop)))
}
