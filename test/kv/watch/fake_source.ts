/**
 * An in-memory MVCC store for the watch tests: every write makes a revision (etcd's revision
 * numbering, starting at 1), keeps its events with prev_kv, and is published to an attached hub
 * in the same step as the revision advances, as the real store must. history() yields each
 * revision after a macrotask (a real read is asynchronous) and refuses compacted revisions the
 * way the real store does.
 */
import {type Event, Event_EventType, type KeyValue} from '../../../src/generated/etcd/mvccpb/kv.js'
import type {WatchHub} from '../../../src/kv/watch/hub.js'
import type {WatchSource} from '../../../src/kv/watch/index.js'

export const b = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'))
export const s = (u: Uint8Array): string => Buffer.from(u).toString('latin1')

/** One write of a txn: a put of key=value, or a delete of key (with end: [key, end)). */
export type Op = {put: string, value: string} | {del: string, end?: string}

export class CompactedError extends Error {
  readonly code = 'COMPACTED'
  constructor(readonly compactRevision: number) {
    super(`required revision has been compacted (compact revision ${compactRevision})`)
  }
}

export class FakeSource implements WatchSource {
  revision = 1
  compactRevision = 0
  /** Every revision with its events (prev_kv included), never forgotten (compaction is logical). */
  readonly log: Array<{revision: number, events: Event[]}> = []
  /** Calls to history(), for tests of the read pattern. */
  readonly reads: Array<{from: number, to: number}> = []
  /** When set, history() throws this after yielding `failAfter` revisions. */
  failWith: Error | undefined
  failAfter = 0
  hub: WatchHub | undefined
  private readonly kvs = new Map<string, KeyValue>()

  put(key: string, value: string): number {
    return this.txn([{put: key, value}])
  }

  del(key: string, end?: string): number {
    return this.txn([end === undefined ? {del: key} : {del: key, end}])
  }

  /** Applies the ops as one revision; returns it (or the current one when nothing changed). */
  txn(ops: readonly Op[]): number {
    const rev = this.revision + 1
    const events: Event[] = []
    for (const op of ops) {
      if ('put' in op) {
        const prev = this.kvs.get(op.put)
        const kv: KeyValue = {key: b(op.put), value: b(op.value), createRevision: prev?.createRevision ?? rev, modRevision: rev,
          version: (prev?.version ?? 0) + 1, lease: 0n}
        this.kvs.set(op.put, kv)
        events.push({type: Event_EventType.PUT, kv, prevKv: prev})
        continue
      }
      const keys = op.end === undefined ? [op.del] : [...this.kvs.keys()].filter((k) => k >= op.del && k < op.end!).sort()
      for (const k of keys) {
        const prev = this.kvs.get(k)
        if (prev === undefined) continue
        this.kvs.delete(k)
        events.push({type: Event_EventType.DELETE, kv: {key: b(k), value: new Uint8Array(0), createRevision: 0, modRevision: rev, version: 0, lease: 0n}, prevKv: prev})
      }
    }
    if (events.length === 0) return this.revision
    this.revision = rev
    this.log.push({revision: rev, events})
    this.hub?.publish(rev, events)
    return rev
  }

  /** Logical compaction at `rev`: history below it is refused from now on. */
  compact(rev: number): void {
    this.compactRevision = rev
  }

  /**
   * Applies writes without publishing them, as if a snapshot had replaced the state (the caller
   * then calls hub.resync()).
   */
  restoreWrites(ops: ReadonlyArray<readonly Op[]>): void {
    const hub = this.hub
    this.hub = undefined
    try {
      for (const o of ops) this.txn(o)
    } finally {
      this.hub = hub
    }
  }

  async *history(from: number, to: number, opts: {prevKv: boolean}): AsyncIterable<{revision: number, events: Event[]}> {
    this.reads.push({from, to})
    if (to > this.revision) throw new Error(`history read past the current revision ${this.revision}: ${to}`)
    let yielded = 0
    for (const r of this.log) {
      if (r.revision < from || r.revision > to) continue
      await new Promise((resolve) => setImmediate(resolve))
      if (from < this.compactRevision) throw new CompactedError(this.compactRevision)
      if (this.failWith !== undefined && yielded++ >= this.failAfter) throw this.failWith
      yield {revision: r.revision, events: opts.prevKv ? r.events : r.events.map((e) => ({...e, prevKv: undefined}))}
    }
  }
}

/** Waits, bounded, until the hub has no catch-up work left. */
export async function settle(hub: WatchHub, maxTurns = 10_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (hub.idle) return
    await new Promise((resolve) => setImmediate(resolve))
  }
  throw new Error(`the watch hub did not settle within ${maxTurns} turns: ${JSON.stringify(hub.stats())}`)
}
