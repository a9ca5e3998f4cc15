/**
 * The bookkeeping of one call's attempts (connection.ts runs them):
 *
 * - Round: the endpoints to try before the next back-off — the known leader first, then every
 *   endpoint of the list — plus the leaders that answers hint at. Each endpoint is tried at most
 *   once per round, so followers that all name a dead leader cannot keep the call spinning
 *   between them without a pause.
 * - CallLog: what each endpoint last did (could not be reached, knew no leader, named a leader,
 *   refused as overloaded), from which the call's final error says what really happened when
 *   its time runs out: "no leader is known" only when a server said so, "overloaded" only when
 *   a server refused as such, and "no raftctl server answers" only when no endpoint answered.
 */
import {status} from '@grpc/grpc-js'
import {ClientError} from './rpc.js'

/** Leaders hinted at that one round follows, beyond its endpoints (keeps a round finite). */
const MAX_HINTS_PER_ROUND = 8

/** The endpoints to try, in order, before the next back-off. */
export class Round {
  private readonly queue: string[]
  private readonly tried = new Set<string>()
  private hints = 0

  constructor(leader: string | undefined, endpoints: readonly string[]) {
    this.queue = leader === undefined ? [...endpoints] : [leader, ...endpoints.filter((e) => e !== leader)]
  }

  /** The next endpoint not yet tried in this round; undefined when the round is over. */
  next(): string | undefined {
    for (let e = this.queue.shift(); e !== undefined; e = this.queue.shift()) {
      if (this.tried.has(e)) continue
      this.tried.add(e)
      return e
    }
    return undefined
  }

  /** Puts a hinted leader first, unless it was already tried in this round. */
  redirect(hint: string): void {
    if (this.tried.has(hint) || this.hints >= MAX_HINTS_PER_ROUND) return
    this.hints++
    this.queue.unshift(hint)
  }
}

/** What one endpoint did on its last attempt. */
type Seen =
  | {readonly kind: 'unreachable'}
  | {readonly kind: 'no-leader', readonly text: string}
  | {readonly kind: 'redirect', readonly leader: string}
  | {readonly kind: 'busy', readonly text: string}
  | {readonly kind: 'other'}

/** Records the attempts of one call and words its final error; see the module comment. */
export class CallLog {
  private readonly seen = new Map<string, Seen>()

  constructor(readonly what: string, readonly endpoints: readonly string[]) {}

  unreachable(endpoint: string): void {
    this.seen.set(endpoint, {kind: 'unreachable'})
  }

  /** A server's answer saying it has no leader to serve the call (`message` is its words). */
  noLeader(endpoint: string, message: string): void {
    this.seen.set(endpoint, {kind: 'no-leader', text: `${endpoint} answered "${message}"`})
  }

  /** A status probe's finding that the member at `endpoint` knows no leader. */
  knowsNoLeader(endpoint: string, memberId: number): void {
    this.seen.set(endpoint, {kind: 'no-leader', text: `node ${memberId} at ${endpoint} knows no leader`})
  }

  redirect(endpoint: string, leader: string): void {
    this.seen.set(endpoint, {kind: 'redirect', leader})
  }

  busy(endpoint: string, message: string): void {
    this.seen.set(endpoint, {kind: 'busy', text: `${endpoint} answered "${message}"`})
  }

  /** Any other answer (a lost connection during a read, ...): the endpoint did answer. */
  other(endpoint: string): void {
    this.seen.set(endpoint, {kind: 'other'})
  }

  /** True when some server said it knows no leader. */
  get sawNoLeader(): boolean {
    return [...this.seen.values()].some((s) => s.kind === 'no-leader')
  }

  /**
   * The error of a call whose time ran out while every attempt was refused or unanswered;
   * `last` is the last attempt's own error, used when nothing more telling was seen.
   */
  finalError(last: ClientError | undefined): ClientError {
    const seen = [...this.seen.values()]
    if (seen.length > 0 && seen.every((s) => s.kind === 'unreachable')) return this.nobodyAnswers()
    const busy = this.texts('busy')
    if (busy.length > 0) {
      return new ClientError(status.RESOURCE_EXHAUSTED,
        `${this.what} failed: the cluster is overloaded and refused it until the deadline (nothing was written): ${busy.join('; ')}`)
    }
    const details = [...this.texts('no-leader'), ...this.deadLeaders(), ...this.unanswered()]
    if (this.sawNoLeader) {
      return new ClientError(status.UNAVAILABLE,
        `${this.what} failed: no leader is known (an election is in progress, or too few members are up to elect one): ${details.join('; ')}`)
    }
    if (this.deadLeaders().length > 0) {
      return new ClientError(status.UNAVAILABLE,
        `${this.what} failed: the leader does not answer and no new one is known yet (an election may be in progress): ${details.join('; ')}`)
    }
    return last ?? new ClientError(status.UNAVAILABLE, `${this.what} failed: no endpoint answered in time`)
  }

  private nobodyAnswers(): ClientError {
    const all = [...new Set([...this.endpoints, ...this.seen.keys()])]
    if (all.length === 1) return new ClientError(status.UNAVAILABLE, `cannot reach ${all[0]}: no raftctl server answers there`, all[0])
    return new ClientError(status.UNAVAILABLE, `cannot reach any endpoint (${all.join(', ')}): no raftctl server answers`)
  }

  private texts(kind: 'no-leader' | 'busy'): string[] {
    return [...this.seen.values()].flatMap((s) => (s.kind === kind ? [s.text] : []))
  }

  /** "<endpoint> names the leader <x>, which does not answer", for each such endpoint. */
  private deadLeaders(): string[] {
    return [...this.seen].flatMap(([endpoint, s]) => (s.kind === 'redirect' && this.seen.get(s.leader)?.kind === 'unreachable'
      ? [`${endpoint} names the leader ${s.leader}, which does not answer`] : []))
  }

  private unanswered(): string[] {
    const down = [...this.seen].filter(([, s]) => s.kind === 'unreachable').map(([e]) => e)
    return down.length === 0 ? [] : [`no server answers at ${down.join(', ')}`]
  }
}
