/**
 * The bounded queue of encoded messages waiting for one peer's stream. It never blocks and never
 * grows past its limits: when full it refuses the newest message (the caller drops it and reports
 * the peer unreachable), except that essential messages may use a small reserve beyond the limit.
 *
 * Invariant: length <= maxMessages + reserve and bytes <= maxBytes + reserveBytes at all times.
 */

/** One encoded eraftpb.Message and what the queue needs to know about it. */
export interface QueuedMessage {
  readonly bytes: Uint8Array
  readonly essential: boolean
}

export interface QueueLimits {
  readonly maxMessages: number
  readonly maxBytes: number
  /** Extra messages admitted beyond maxMessages, for essential messages only. */
  readonly reserve: number
  /** Extra bytes admitted beyond maxBytes, for essential messages only. */
  readonly reserveBytes: number
}

export class BoundedQueue {
  private items: QueuedMessage[] = []
  private head = 0
  private size = 0

  constructor(private readonly limits: QueueLimits) {}

  /** Number of queued messages. */
  get length(): number {
    return this.items.length - this.head
  }

  /** Sum of the encoded sizes of the queued messages. */
  get bytes(): number {
    return this.size
  }

  /** Appends `m` if the limits allow it; returns false (and keeps nothing) otherwise. */
  push(m: QueuedMessage): boolean {
    const {maxMessages, maxBytes, reserve, reserveBytes} = this.limits
    const n = m.bytes.length
    const fits = this.length < maxMessages && this.size + n <= maxBytes
    const fitsReserve = m.essential &&
      this.length < maxMessages + reserve && this.size + n <= maxBytes + reserveBytes
    if (!fits && !fitsReserve) return false
    this.items.push(m)
    this.size += n
    return true
  }

  /**
   * Removes and returns the oldest messages forming one batch: at most `maxCount` messages and
   * `maxBytes` bytes, but always at least one message when the queue is not empty.
   */
  takeBatch(maxCount: number, maxBytes: number): Uint8Array[] {
    const out: Uint8Array[] = []
    let bytes = 0
    while (this.head < this.items.length && out.length < maxCount) {
      const next = this.items[this.head].bytes
      if (out.length > 0 && bytes + next.length > maxBytes) break
      out.push(next)
      bytes += next.length
      this.head++
    }
    this.size -= bytes
    this.compact()
    return out
  }

  /** Empties the queue and returns how many messages it held. */
  clear(): number {
    const n = this.length
    this.items = []
    this.head = 0
    this.size = 0
    return n
  }

  /** Drops consumed slots once they dominate the backing array, keeping push/take amortized O(1). */
  private compact(): void {
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
  }
}
