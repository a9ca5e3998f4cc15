/**
 * Pending ReadIndex requests of a leader (etcd-io/raft read_only.go; Raft thesis §6.4). With the
 * 'safe' option each request records the commit index at the time it arrived and waits until a
 * quorum acknowledged a heartbeat carrying its context; requests are answered in arrival order.
 */
import type {ReadOnlyOption} from './config.js'
import type {Message} from './types.js'
import {bytesKey, panic} from './util.js'

/**
 * The result of a read-only request: the application may serve the read once it has applied
 * up to `index`. `requestCtx` is the context given to readIndex().
 */
export interface ReadState {
  readonly index: number
  readonly requestCtx: Uint8Array
}

/** One pending request: the original message, the commit index it reads at, and its acks. */
export interface ReadIndexStatus {
  readonly req: Message
  readonly index: number
  readonly acks: Map<number, boolean>
}

export class ReadOnly {
  readonly option: ReadOnlyOption
  private readonly pendingReadIndex = new Map<string, ReadIndexStatus>()
  private readIndexQueue: string[] = []

  constructor(option: ReadOnlyOption) {
    this.option = option
  }

  /**
   * Adds a read-only request: `index` is the commit index of the leader when the request
   * arrived, `m` the MsgReadIndex (its first entry's data is the request context). A request
   * whose context is already pending is ignored.
   */
  addRequest(index: number, m: Message): void {
    const s = bytesKey(m.entries[0].data)
    if (this.pendingReadIndex.has(s)) return
    this.pendingReadIndex.set(s, {index, req: m, acks: new Map()})
    this.readIndexQueue.push(s)
  }

  /**
   * Records a heartbeat acknowledgement from `id` for the request with `context`, returning the
   * acks so far (an empty map if the context is unknown).
   */
  recvAck(id: number, context: Uint8Array): ReadonlyMap<number, boolean> {
    const rs = this.pendingReadIndex.get(bytesKey(context))
    if (rs === undefined) return new Map()
    rs.acks.set(id, true)
    return rs.acks
  }

  /**
   * Dequeues the request whose context is m.context and every request queued before it (they
   * are confirmed by the same quorum), returning them in order; [] if the context is unknown.
   */
  advance(m: Message): ReadIndexStatus[] {
    const ctx = bytesKey(m.context)
    const rss: ReadIndexStatus[] = []
    let i = 0
    let found = false
    for (const okctx of this.readIndexQueue) {
      i++
      const rs = this.pendingReadIndex.get(okctx)
      if (rs === undefined) panic('cannot find corresponding read state from pending map')
      rss.push(rs)
      if (okctx === ctx) {
        found = true
        break
      }
    }
    if (!found) return []
    this.readIndexQueue = this.readIndexQueue.slice(i)
    for (const rs of rss) this.pendingReadIndex.delete(bytesKey(rs.req.entries[0].data))
    return rss
  }

  /** The context of the last pending request, or undefined when none is pending. */
  lastPendingRequestCtx(): Uint8Array | undefined {
    if (this.readIndexQueue.length === 0) return undefined
    const last = this.readIndexQueue[this.readIndexQueue.length - 1]
    return this.pendingReadIndex.get(last)?.req.entries[0].data
  }

  /** The number of pending requests (for tests and status). */
  pendingCount(): number {
    return this.readIndexQueue.length
  }
}
