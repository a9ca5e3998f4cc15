/**
 * The lock-safety check of a chaos run (issue 13): no two clients ever hold the same lock at once,
 * judged by lease validity, and the holders' fencing revisions grow.
 *
 * Input (`<out>/locks.json`, see LockHistory): every acquisition a lock client made, and for every
 * lease those clients used, the harness's own record of its grant and keep-alives. All times are
 * integer nanoseconds of the run's one monotonic clock (as in history.json).
 *
 * A holder's tenure starts when lock() returned (`acquiredAt`) and ends at the earliest of:
 * - `releasedAt`: unlock was called, the session reported its loss, or the run ended;
 * - `leaseLostAt`: the session reported the loss of its lease (Session's `done`);
 * - the documented bound of its lease (docs/coordination.md): one TTL after the sending of the
 *   last keep-alive confirmed in time. The bound is computed here from the keep-alive record, not
 *   taken from the client: starting at the grant's sending plus its TTL, each answer received
 *   before the current bound moves it to (its request's sending + the TTL it reports); an answer
 *   received after the bound cannot revive the lease (the session should have ended), and an
 *   answer with TTL <= 0 ends it when it arrives.
 *
 * Verdict UNSAFE when, for one lock, two tenures intersect (one starts strictly before the other
 * ends), or when, in the order of their start, a holder's revision (its key's create revision, the
 * fencing token) is not greater than the previous holder's. A tenure that ends before it starts
 * (lock() returned after its lease's bound) was never a tenure: it takes part in neither check.
 */
import {readFileSync} from 'node:fs'

/** One acquisition of a lock by a lock client. */
export interface LockRecord {
  readonly clientId: number
  /** The lock's name (the mutex prefix without its '/'). */
  readonly lock: string
  /** The session's lease, in lower-case hex (as in the key). */
  readonly lease: string
  /** The holder's key, `<lock>/<lease>`. */
  readonly key: string
  /** Create revision of the key: the fencing token. */
  readonly revision: number
  /** When lock() returned. */
  readonly acquiredAt: number
  /** When the client stopped holding (unlock called, loss reported, run ended); null: never. */
  readonly releasedAt: number | null
  /** When the session reported that its lease was lost, if it did before the release. */
  readonly leaseLostAt: number | null
}

/** The harness's record of one lease: its grant and every keep-alive answer, in arrival order. */
export interface LeaseTrail {
  readonly clientId: number
  readonly lease: string
  /** When the grant request was sent. */
  readonly grantSentAt: number
  /** The TTL the grant answered, in seconds. */
  readonly ttl: number
  /** `[sent, received, ttl]`: a keep-alive request's sending, its answer's arrival, the TTL answered. */
  readonly keepAlives: Array<[number, number, number]>
  /** When the session reported its end, and why (closed, orphaned, expired, unconfirmed). */
  lostAt: number | null
  lostReason: string | null
}

export interface LockHistory {
  readonly acquisitions: LockRecord[]
  readonly leases: LeaseTrail[]
}

/** A tenure as judged: the record, where it was cut, and why. */
export interface Tenure {
  readonly record: LockRecord
  readonly start: number
  readonly end: number
  readonly endReason: 'released' | 'lease lost' | 'lease bound'
}

export interface LockViolation {
  readonly kind: 'overlap' | 'fencing'
  readonly lock: string
  readonly first: Tenure
  readonly second: Tenure
}

export interface LockCheckResult {
  readonly verdict: 'safe' | 'unsafe'
  readonly acquisitions: number
  /** Tenures that counted (ended after they started). */
  readonly tenures: number
  readonly locks: number
  readonly violations: LockViolation[]
}

const NS_PER_S = 1_000_000_000

/**
 * The documented validity bound of a lease (see the module doc): the moment after which its
 * holder may no longer assume the lease lives, computed from the grant and keep-alive record.
 */
export function leaseBound(trail: LeaseTrail): number {
  let bound = trail.grantSentAt + trail.ttl * NS_PER_S
  const answers = [...trail.keepAlives].sort((a, b) => a[1] - b[1])
  for (const [sent, received, ttl] of answers) {
    if (received > bound) break
    if (ttl <= 0) return Math.min(bound, received)
    bound = Math.max(bound, sent + ttl * NS_PER_S)
  }
  return bound
}

/** Cuts one record at the earliest of its release, its lease's loss and its lease's bound. */
export function tenureOf(r: LockRecord, bound: number): Tenure {
  const cuts: Array<[number, Tenure['endReason']]> = [[bound, 'lease bound']]
  if (r.leaseLostAt !== null) cuts.push([r.leaseLostAt, 'lease lost'])
  if (r.releasedAt !== null) cuts.push([r.releasedAt, 'released'])
  const [end, endReason] = cuts.reduce((a, b) => (b[0] < a[0] ? b : a))
  return {record: r, start: r.acquiredAt, end, endReason}
}

/** Checks one lock's tenures (sorted by start): every overlap with an earlier tenure, and fencing order. */
function checkLock(lock: string, tenures: readonly Tenure[]): LockViolation[] {
  const out: LockViolation[] = []
  let longest: Tenure | undefined
  for (let i = 0; i < tenures.length; i++) {
    const t = tenures[i]
    if (longest !== undefined && t.start < longest.end) out.push({kind: 'overlap', lock, first: longest, second: t})
    if (i > 0 && t.record.revision <= tenures[i - 1].record.revision) out.push({kind: 'fencing', lock, first: tenures[i - 1], second: t})
    if (longest === undefined || t.end > longest.end) longest = t
  }
  return out
}

/** Judges a lock history (see the module doc). */
export function checkLocks(h: LockHistory): LockCheckResult {
  const bounds = new Map(h.leases.map((l) => [l.lease, leaseBound(l)]))
  const byLock = new Map<string, Tenure[]>()
  let tenures = 0
  for (const r of h.acquisitions) {
    const bound = bounds.get(r.lease)
    if (bound === undefined) throw new Error(`acquisition of ${r.lock} by client ${r.clientId} names lease ${r.lease}, which has no record`)
    const t = tenureOf(r, bound)
    if (t.end <= t.start) continue
    tenures += 1
    let l = byLock.get(r.lock)
    if (l === undefined) byLock.set(r.lock, l = [])
    l.push(t)
  }
  const violations: LockViolation[] = []
  for (const [lock, ts] of byLock) violations.push(...checkLock(lock, ts.sort((a, b) => a.start - b.start)))
  return {verdict: violations.length === 0 ? 'safe' : 'unsafe', acquisitions: h.acquisitions.length, tenures, locks: byLock.size, violations}
}

const ms = (ns: number): string => (ns / 1e6).toFixed(3)

/** One line describing a tenure, for reports. */
export function formatTenure(t: Tenure): string {
  const r = t.record
  return `client ${r.clientId}: ${r.key} revision ${r.revision}, held [${ms(t.start)} ms, ${ms(t.end)} ms] (ended: ${t.endReason})`
}

/** The lines describing a violation: what is wrong, then both records. */
export function formatViolation(v: LockViolation): string[] {
  const what = v.kind === 'overlap' ? `two holders of ${v.lock} at once` : `fencing revision of ${v.lock} did not grow`
  return [`${what}:`, `  ${formatTenure(v.first)}`, `  ${formatTenure(v.second)}`]
}

const isTime = (v: unknown): boolean => Number.isSafeInteger(v)
const isTimeOrNull = (v: unknown): boolean => v === null || isTime(v)

/** Checks one acquisition's shape; returns a one-line problem or undefined. */
function recordProblem(r: Record<string, unknown>): string | undefined {
  if (!Number.isSafeInteger(r.clientId)) return 'clientId must be an integer'
  for (const f of ['lock', 'lease', 'key'] as const) if (typeof r[f] !== 'string') return `${f} must be a string`
  if (!Number.isSafeInteger(r.revision)) return 'revision must be an integer'
  if (!isTime(r.acquiredAt)) return 'acquiredAt must be an integer (nanoseconds)'
  if (!isTimeOrNull(r.releasedAt) || !isTimeOrNull(r.leaseLostAt)) return 'releasedAt and leaseLostAt must be integers (nanoseconds) or null'
  return undefined
}

/** Checks one lease trail's shape; returns a one-line problem or undefined. */
function trailProblem(l: Record<string, unknown>): string | undefined {
  if (typeof l.lease !== 'string') return 'lease must be a string'
  if (!isTime(l.grantSentAt)) return 'grantSentAt must be an integer (nanoseconds)'
  if (typeof l.ttl !== 'number' || !(l.ttl > 0)) return 'ttl must be a positive number of seconds'
  const ok = Array.isArray(l.keepAlives) && l.keepAlives.every((k) => Array.isArray(k) && k.length === 3 && isTime(k[0]) && isTime(k[1]) &&
    typeof k[2] === 'number')
  return ok ? undefined : 'keepAlives must be a list of [sent, received, ttl]'
}

/** Parses a locks.json text; throws one line naming the first bad entry. */
export function parseLockHistory(text: string, source = 'locks'): LockHistory {
  let data: {acquisitions?: unknown, leases?: unknown}
  try {
    data = JSON.parse(text) as typeof data
  } catch (err) {
    throw new Error(`${source} is not JSON: ${(err as Error).message}`)
  }
  if (typeof data !== 'object' || data === null || !Array.isArray(data.acquisitions) || !Array.isArray(data.leases)) {
    throw new Error(`${source} must be a JSON object with the arrays "acquisitions" and "leases"`)
  }
  for (const [list, problem, what] of [[data.acquisitions, recordProblem, 'acquisition'], [data.leases, trailProblem, 'lease']] as const) {
    list.forEach((e: unknown, i: number) => {
      const p = typeof e === 'object' && e !== null ? problem(e as Record<string, unknown>) : 'not an object'
      if (p !== undefined) throw new Error(`${source}: ${what} ${i}: ${p}`)
    })
  }
  return data as unknown as LockHistory
}

export function readLockHistory(path: string): LockHistory {
  return parseLockHistory(readFileSync(path, 'utf8'), path)
}
