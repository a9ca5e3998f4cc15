/**
 * Inflights: flow control of MsgApp to one follower (etcd-io/raft tracker/inflights.go). The
 * leader records the last index of every append it sends in StateReplicate, stops sending when
 * the window is full (too many messages, or too many bytes), and frees the window as the
 * follower acknowledges.
 */
import {InvalidInputError, RaftInvariantError} from '../errors.js'

/** One append in flight: its last entry index and its payload size in bytes. */
interface Inflight {
  index: number
  bytes: number
}

/**
 * A bounded FIFO of in-flight appends kept in a ring buffer that grows lazily up to `size`.
 * Invariants: 0 <= count <= size; indexes increase strictly from the oldest to the newest;
 * `bytes` is the sum of the bytes of the entries in the window.
 */
export class Inflights {
  private start = 0
  private cnt = 0
  private totalBytes = 0
  private buffer: Inflight[] = []

  /**
   * `size` is the maximum number of appends in flight (a positive safe integer); `maxBytes` the
   * maximum total bytes in flight, 0 meaning unlimited.
   */
  constructor(readonly size: number, readonly maxBytes = 0) {
    if (!Number.isSafeInteger(size) || size <= 0) {
      throw new InvalidInputError(`inflights size must be a positive safe integer, got ${size}`)
    }
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw new InvalidInputError(`inflights maxBytes must be a non-negative safe integer, got ${maxBytes}`)
    }
  }

  /** Returns an independent copy (the buffer is copied, not shared). */
  clone(): Inflights {
    const c = new Inflights(this.size, this.maxBytes)
    c.start = this.start
    c.cnt = this.cnt
    c.totalBytes = this.totalBytes
    c.buffer = this.buffer.map((f) => ({...f}))
    return c
  }

  /**
   * Records an append whose last entry is `index`, carrying `bytes` bytes. The caller must
   * check full() first; adding to a full window, or an index not above the newest one in flight,
   * throws RaftInvariantError.
   */
  add(index: number, bytes: number): void {
    if (this.full()) throw new RaftInvariantError(`cannot add index ${index} into full inflights`)
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new InvalidInputError(`inflight bytes must be a non-negative safe integer, got ${bytes}`)
    }
    if (this.cnt > 0 && index <= this.at(this.cnt - 1).index) {
      throw new RaftInvariantError(`inflight index ${index} does not increase (newest is ${this.at(this.cnt - 1).index})`)
    }
    const next = (this.start + this.cnt) % this.size
    if (next >= this.buffer.length) this.buffer.push({index, bytes})
    else this.buffer[next] = {index, bytes}
    this.cnt++
    this.totalBytes += bytes
  }

  /** Frees every in-flight append whose index is <= `to` (the follower acknowledged up to `to`). */
  freeLE(to: number): void {
    while (this.cnt > 0 && this.buffer[this.start].index <= to) {
      this.totalBytes -= this.buffer[this.start].bytes
      this.start = (this.start + 1) % this.size
      this.cnt--
    }
    // An empty window restarts at slot 0 so the buffer does not grow needlessly.
    if (this.cnt === 0) this.start = 0
  }

  /** Whether no more appends may be sent: `size` in flight, or the byte budget is used up. */
  full(): boolean {
    return this.cnt === this.size || (this.maxBytes > 0 && this.totalBytes >= this.maxBytes)
  }

  /** The number of appends in flight. */
  count(): number {
    return this.cnt
  }

  /** The total bytes of the appends in flight. */
  bytes(): number {
    return this.totalBytes
  }

  /** The indexes in flight, oldest first (for tests and status). */
  indexes(): number[] {
    return Array.from({length: this.cnt}, (_, i) => this.at(i).index)
  }

  /** Frees everything. */
  reset(): void {
    this.start = 0
    this.cnt = 0
    this.totalBytes = 0
  }

  /** The i-th oldest entry in flight; requires 0 <= i < count. */
  private at(i: number): Inflight {
    return this.buffer[(this.start + i) % this.size]
  }
}
