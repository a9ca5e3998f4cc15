/**
 * What the node's requests wait for:
 * - Proposals, identified by the request id written into their entry (InternalRaftRequest.id,
 *   ConfChangeContext.request_id, ServerRequest.request_id; unique per proposer: a node nonce and
 *   a sequence). Any member proposes (a follower's core forwards the proposal to the leader), so
 *   a proposal is settled when this node applies the entry carrying its id — the outcome every
 *   replica computes identically.
 * - For a proposal this node appended itself as leader, also the (index, term) its entry got. An
 *   entry is the same entry on every node exactly when index and term agree (Raft's Log Matching
 *   property, paper §5.3), so when the committed entry at that index is applied with another term
 *   the proposal was overwritten by a new leader: it is rejected at once as lost — it was never
 *   applied anywhere and is safe to retry. A follower cannot know where the leader put its entry,
 *   so its proposals can only end by their deadline when lost (as etcd's do).
 * - ReadIndex requests, identified by their context bytes, resolved with the read index.
 * - Applied-index waits: resolved once the state machine applied up to an index.
 * Every waiter has a deadline; all are rejected when the node stops.
 */
import {DeadlineError, WaitRegistry} from './wait.js'

/** Where a proposal appended by this node as leader sits in the log. */
interface Slot {
  readonly index: number
  readonly term: number
}

/** What applying an entry gives its proposer. */
export interface ApplyOutcome<T> {
  readonly result?: T
  readonly error?: Error
}

/** Proposals waiting for their entry to be applied on this node; see the module comment. */
export class ProposalWaits<T> {
  private readonly registry = new WaitRegistry<number, T>()
  /** The lowest index each waiting proposal's entry can have (it follows the commit index when proposed). */
  private readonly minIndex = new Map<number, number>()
  /** Proposals appended by this node as leader: request id by index, then term. */
  private readonly byIndex = new Map<number, Map<number, number>>()
  private readonly slots = new Map<number, Slot>()

  /**
   * Registers the proposal `requestId`, whose entry will have an index of at least `minIndex`.
   * Its promise is settled by applied(), by a rejection, or after `timeoutMs` with a
   * DeadlineError saying that its outcome is unknown.
   */
  register(requestId: number, minIndex: number, timeoutMs: number, what: string): Promise<T> {
    const p = this.registry.register(requestId, timeoutMs, what)
    this.minIndex.set(requestId, minIndex)
    return p
      .catch((err: unknown) => {
        // The entry may be in the leader's log and still commit: say so, in the same sentence.
        if (!(err instanceof DeadlineError)) throw err
        throw new DeadlineError(`${err.message}; its outcome is unknown (it may still be applied), so check before repeating it`)
      })
      .finally(() => this.forget(requestId))
  }

  /** Records that this node, as leader, appended the entry of `requestId` at (index, term). */
  appended(requestId: number, index: number, term: number): void {
    if (!this.registry.has(requestId)) return
    let terms = this.byIndex.get(index)
    if (terms === undefined) this.byIndex.set(index, terms = new Map())
    terms.set(term, requestId)
    this.slots.set(requestId, {index, term})
  }

  /** Forgets a proposal that was never proposed (the core refused it); its promise never settles. */
  discard(requestId: number): void {
    this.registry.discard(requestId)
    this.forget(requestId)
  }

  /**
   * Settles the proposals an applied entry decides: the one whose id the entry (index, term)
   * carries gets `outcome`; a proposal this node appended at `index` with another term gets
   * `lost()`. A proposal appended at (index, term) whose id differs from the entry's gets an
   * internal error instead of another request's result (Log Matching makes this impossible; it
   * guards the bookkeeping). An entry whose id could not be read settles the proposal appended
   * at (index, term), if any.
   */
  applied(index: number, term: number, requestId: number | undefined, outcome: ApplyOutcome<T>, lost: () => Error): void {
    let owner = requestId
    for (const [t, id] of [...this.byIndex.get(index) ?? []]) {
      if (t !== term) this.registry.reject(id, lost())
      else if (requestId === undefined) owner = id
      else if (id !== requestId) {
        this.registry.reject(id, new Error(`internal error: the entry applied at index ${index} (term ${term}) carries request ` +
          `${requestId}, not request ${id}, so the outcome of the request is unknown; read the keys to check`))
      }
    }
    if (owner === undefined) return
    if (outcome.error !== undefined) this.registry.reject(owner, outcome.error)
    else this.registry.resolve(owner, outcome.result as T)
  }

  /**
   * Rejects every proposal whose entry may be at or below `index` (a snapshot replaced those
   * entries, so this node will never apply them one by one).
   */
  rejectUpTo(index: number, err: () => Error): void {
    for (const id of this.registry.ids()) {
      const slot = this.slots.get(id)
      const lowest = slot?.index ?? this.minIndex.get(id) ?? 0
      if (lowest <= index) this.registry.reject(id, err())
    }
  }

  rejectAll(err: Error): void {
    this.registry.rejectAll(err)
  }

  get size(): number {
    return this.registry.size
  }

  private forget(requestId: number): void {
    this.minIndex.delete(requestId)
    const slot = this.slots.get(requestId)
    if (slot === undefined) return
    this.slots.delete(requestId)
    const terms = this.byIndex.get(slot.index)
    if (terms?.get(slot.term) === requestId) terms.delete(slot.term)
    if (terms !== undefined && terms.size === 0) this.byIndex.delete(slot.index)
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
