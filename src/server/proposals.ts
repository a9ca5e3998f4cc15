/**
 * What the node's requests wait for:
 * - Proposals, identified by the (index, term) their entry got in the leader's log. An entry is
 *   the same entry on every node exactly when index and term agree (Raft's Log Matching
 *   property, paper §5.3), so when the committed entry at that index is applied with another
 *   term the proposal was overwritten by a new leader and is rejected as lost — it was never
 *   applied anywhere and is safe to retry. Each proposal also carries the request id written
 *   into its entry; the applied entry's id is checked against it, so even a broken invariant
 *   (an entry registered at the wrong index) can never hand one request another's result.
 * - ReadIndex requests, identified by their context bytes, resolved with the read index.
 * - Applied-index waits: resolved once the state machine applied up to an index.
 * Every waiter has a deadline; all are rejected when the node stops.
 */
import {DeadlineError, WaitRegistry} from './wait.js'

/** Resolves proposals by (index, term); see the module comment. */
export class ProposalTracker<T> {
  private readonly registry = new WaitRegistry<string, T>()
  private readonly byIndex = new Map<number, Set<number>>()
  /** The request id written into each waiting proposal's entry, by `${index}:${term}`. */
  private readonly requestIds = new Map<string, number>()

  /** Registers the proposal whose entry, carrying `requestId` (if any), is at (index, term). */
  register(index: number, term: number, timeoutMs: number, what: string, requestId?: number): Promise<T> {
    const key = `${index}:${term}`
    let terms = this.byIndex.get(index)
    if (terms === undefined) this.byIndex.set(index, terms = new Set())
    terms.add(term)
    if (requestId !== undefined) this.requestIds.set(key, requestId)
    return this.registry.register(key, timeoutMs, what)
      .catch((err: unknown) => {
        // The entry is in the leader's log and may still commit: say so, in the same sentence.
        if (!(err instanceof DeadlineError)) throw err
        throw new DeadlineError(`${err.message}; its outcome is unknown (it may still be applied), so check before repeating it`)
      })
      .finally(() => this.forget(index, term))
  }

  /**
   * Settles the waiters at `index` once the entry (index, term), carrying `requestId` (if it
   * has one), was applied: the one with the same term gets `result` (or `error`), any other one
   * `lost()`. A same-term waiter whose request id differs from the entry's gets an internal
   * error instead of another request's result (Log Matching makes this impossible; it guards
   * the bookkeeping).
   */
  applied(index: number, term: number, outcome: {result?: T, error?: Error}, lost: () => Error, requestId?: number): void {
    const terms = this.byIndex.get(index)
    if (terms === undefined) return
    for (const t of [...terms]) {
      const key = `${index}:${t}`
      const expected = this.requestIds.get(key)
      if (t !== term) this.registry.reject(key, lost())
      else if (expected !== undefined && requestId !== undefined && expected !== requestId) {
        this.registry.reject(key, new Error(`internal error: the entry applied at index ${index} (term ${term}) carries request ` +
          `${requestId}, not request ${expected}, so the outcome of the request is unknown; read the keys to check`))
      } else if (outcome.error !== undefined) this.registry.reject(key, outcome.error)
      else this.registry.resolve(key, outcome.result as T)
    }
  }

  /** Rejects every waiter at or below `index` (a snapshot replaced those entries). */
  rejectUpTo(index: number, err: () => Error): void {
    for (const [i, terms] of [...this.byIndex]) {
      if (i > index) continue
      for (const t of [...terms]) this.registry.reject(`${i}:${t}`, err())
    }
  }

  rejectAll(err: Error): void {
    this.registry.rejectAll(err)
  }

  get size(): number {
    return this.registry.size
  }

  private forget(index: number, term: number): void {
    this.requestIds.delete(`${index}:${term}`)
    const terms = this.byIndex.get(index)
    terms?.delete(term)
    if (terms !== undefined && terms.size === 0) this.byIndex.delete(index)
  }
}

/** Waiters for the applied index to reach a value. */
export class AppliedWaiters {
  private waiters: Array<{index: number, resolve: () => void, reject: (e: Error) => void, timer: NodeJS.Timeout}> = []

  constructor(private applied: number) {}

  /** Resolves once applied >= index, or rejects with a DeadlineError after timeoutMs. */
  wait(index: number, timeoutMs: number, what: string): Promise<void> {
    if (this.applied >= index) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const w = {index, resolve, reject, timer: setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w)
        reject(new DeadlineError(`${what}: this node did not apply up to index ${index} within ${timeoutMs} ms`))
      }, timeoutMs)}
      this.waiters.push(w)
    })
  }

  /** Records a new applied index and resolves every waiter it satisfies. */
  advance(applied: number): void {
    if (applied <= this.applied) return
    this.applied = applied
    const ready = this.waiters.filter((w) => w.index <= applied)
    if (ready.length === 0) return
    this.waiters = this.waiters.filter((w) => w.index > applied)
    for (const w of ready) {
      clearTimeout(w.timer)
      w.resolve()
    }
  }

  rejectAll(err: Error): void {
    const all = this.waiters
    this.waiters = []
    for (const w of all) {
      clearTimeout(w.timer)
      w.reject(err)
    }
  }
}

/** Returns true when `err` is a waiter's deadline passing. */
export const isDeadline = (err: unknown): boolean => err instanceof DeadlineError
