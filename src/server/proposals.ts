/**
 * What the node's requests wait for:
 * - Proposals, identified by the (index, term) their entry got in the leader's log. An entry is
 *   the same entry on every node exactly when index and term agree (Raft's Log Matching
 *   property, paper §5.3), so when the committed entry at that index is applied with another
 *   term the proposal was overwritten by a new leader and is rejected as lost — it was never
 *   applied anywhere and is safe to retry.
 * - ReadIndex requests, identified by their context bytes, resolved with the read index.
 * - Applied-index waits: resolved once the state machine applied up to an index.
 * Every waiter has a deadline; all are rejected when the node stops.
 */
import {DeadlineError, WaitRegistry} from './wait.js'

/** Resolves proposals by (index, term); see the module comment. */
export class ProposalTracker<T> {
  private readonly registry = new WaitRegistry<string, T>()
  private readonly byIndex = new Map<number, Set<number>>()

  /** Registers the proposal whose entry is at (index, term). */
  register(index: number, term: number, timeoutMs: number, what: string): Promise<T> {
    const key = `${index}:${term}`
    let terms = this.byIndex.get(index)
    if (terms === undefined) this.byIndex.set(index, terms = new Set())
    terms.add(term)
    return this.registry.register(key, timeoutMs, what).finally(() => this.forget(index, term))
  }

  /**
   * Settles the waiters at `index` once the entry (index, term) was applied: the one with the
   * same term gets `result()` (or `error`), any other one `lost()`.
   */
  applied(index: number, term: number, outcome: {result?: T, error?: Error}, lost: () => Error): void {
    const terms = this.byIndex.get(index)
    if (terms === undefined) return
    for (const t of [...terms]) {
      const key = `${index}:${t}`
      if (t !== term) this.registry.reject(key, lost())
      else if (outcome.error !== undefined) this.registry.reject(key, outcome.error)
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
