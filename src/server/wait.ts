/**
 * Tracks requests waiting for a later event (a proposal waiting to be applied, a read waiting for
 * its ReadIndex) by id. Each waiter is settled exactly once: by `resolve`, by `reject`, by its
 * deadline, or by `rejectAll` when the node stops.
 */
import {CodedError, withCode} from '../raft/errors.js'

/** Raised when a waiter's deadline passes before it is settled. */
export class DeadlineError extends withCode(CodedError, 'DEADLINE_EXCEEDED') {}

interface Waiter<T> {
  resolve(value: T): void
  reject(err: Error): void
  timer: NodeJS.Timeout
}

export class WaitRegistry<K, T> {
  private readonly waiters = new Map<K, Waiter<T>>()

  /** Registers `id` and returns a promise settled by resolve/reject or after `timeoutMs`. */
  register(id: K, timeoutMs: number, what: string): Promise<T> {
    if (this.waiters.has(id)) throw new Error(`duplicate wait id ${String(id)}`)
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id)
        reject(new DeadlineError(`${what} did not complete within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiters.set(id, {resolve, reject, timer})
    })
  }

  has(id: K): boolean {
    return this.waiters.has(id)
  }

  get size(): number {
    return this.waiters.size
  }

  /** Settles `id` with a value; returns false if nobody was waiting (already settled, or another node's). */
  resolve(id: K, value: T): boolean {
    const w = this.take(id)
    w?.resolve(value)
    return w !== undefined
  }

  reject(id: K, err: Error): boolean {
    const w = this.take(id)
    w?.reject(err)
    return w !== undefined
  }

  /** Forgets `id` without settling it (its promise never settles; nobody may await it). */
  discard(id: K): boolean {
    return this.take(id) !== undefined
  }

  /** Every id waiting now. */
  ids(): K[] {
    return [...this.waiters.keys()]
  }

  /** Rejects every waiter (node stopping, leadership lost for reads). */
  rejectAll(err: Error): void {
    for (const id of [...this.waiters.keys()]) this.reject(id, err)
  }

  private take(id: K): Waiter<T> | undefined {
    const w = this.waiters.get(id)
    if (w === undefined) return undefined
    clearTimeout(w.timer)
    this.waiters.delete(id)
    return w
  }
}
