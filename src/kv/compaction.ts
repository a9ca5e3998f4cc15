/**
 * Physical compaction: deleting the history records that a compaction made unreachable.
 *
 * Applying a CompactionRequest at revision C is logical and immediate (the meta's compact
 * revision; reads and watches below C fail from then on). This worker then removes, in bounded
 * background batches, every record with main revision <= C except each key's latest put at or
 * below C (its value at C): superseded puts, tombstones (a delete at or below C, and everything
 * before it) — the h/ index entry and the R/ record together. It walks the h/ index in key order;
 * each batch is one atomic write under the state lock together with a cursor record
 * (v/compact-cursor: the target revision and the h/ key to resume at), so a crash or restart
 * resumes where the last batch ended. When the walk ends, the meta's physical revision becomes C
 * in the same batch that deletes the cursor, and waiters of waitFor(C) are released.
 *
 * A read at a revision >= C never needs a deleted record (see view.ts), so batches run while
 * the store serves reads and applies writes. A newer compaction while a walk is under way starts
 * a new walk toward it when the current one ends (records only become more deletable).
 */
import type {Db} from '../storage/db.js'
import {StorageCorruptError} from '../storage/errors.js'
import {concat, describeKey, HISTORY_PREFIX, prefixRangeEnd, readU64be, revKey, type Revision, u64be} from '../storage/keys.js'
import type {BatchOp} from '../storage/db.js'
import {readIndexEntry} from './view.js'

/** v/compact-cursor: target revision (u64 BE) | the h/ key to resume at. */
export const COMPACT_CURSOR_KEY = new TextEncoder().encode('v/compact-cursor')

export function encodeCursor(target: number, at: Uint8Array): Uint8Array {
  return concat(u64be(target), at)
}

export function decodeCursor(b: Uint8Array): {target: number, at: Uint8Array} | undefined {
  if (b.length < 8) return undefined
  const target = readU64be(b, 0)
  return target === undefined ? undefined : {target, at: b.subarray(8)}
}

/** What the worker needs from the store. */
export interface CompactionHost {
  readonly db: Db
  readonly dir: string
  /** The logical compact revision now. */
  readonly compactRevision: number
  /** The revision up to which physical deletion finished. */
  readonly physicalRevision: number
  /** Changes whenever the store's content is replaced (snapshot restore). */
  readonly generation: number
  /** Runs `fn` under the state lock (no apply or restore meanwhile). */
  exclusive<T>(fn: () => Promise<T>): Promise<T>
  /** Commits ops with the meta record saying the physical revision is `physical` (under the lock). */
  commitPhysical(ops: BatchOp[], physical: number): Promise<void>
}

export interface CompactionOptions {
  /** h/ entries examined per batch (default 1000). */
  readonly batchEntries?: number
  /**
   * Test hook called after each committed batch (batch number from 1, records deleted). When it
   * throws, the worker stops as if the process died there; the next open resumes.
   */
  readonly afterBatch?: (p: {batch: number, deleted: number}) => void | Promise<void>
}

/** One key's entries at or below the target, streamed: only the latest of them may survive. */
interface Pending {
  readonly key: Uint8Array
  readonly hkey: Uint8Array
  readonly rev: Revision
  readonly put: boolean
}

export class PhysicalCompactor {
  private running: Promise<void> | undefined
  private stopped = false
  private failure: Error | undefined
  private waiters: Array<{rev: number, resolve: () => void, reject: (e: Error) => void}> = []
  batches = 0

  constructor(private readonly host: CompactionHost, private readonly opts: CompactionOptions = {}) {}

  /** Starts the worker when the physical revision is behind the compact revision. */
  kick(): void {
    if (this.stopped || this.running !== undefined || this.failure !== undefined) return
    if (this.host.physicalRevision >= this.host.compactRevision) return
    this.running = this.loop().catch((err: Error) => {
      this.failure = err
      for (const w of this.waiters.splice(0)) w.reject(err)
    }).finally(() => {
      this.running = undefined
      this.settle()
    })
  }

  /** Resolves once the records below `rev` are physically gone (rejects if the worker failed). */
  waitFor(rev: number): Promise<void> {
    if (this.host.physicalRevision >= rev) return Promise.resolve()
    if (this.failure !== undefined) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      this.waiters.push({rev, resolve, reject})
      this.kick()
    })
  }

  /** Stops after the batch in progress; the cursor lets the next open resume. */
  async stop(): Promise<void> {
    this.stopped = true
    await this.running
    const err = new Error('the store was closed before the physical compaction finished')
    for (const w of this.waiters.splice(0)) w.reject(err)
  }

  private settle(): void {
    const done = this.host.physicalRevision
    this.waiters = this.waiters.filter((w) => {
      if (w.rev > done) return true
      w.resolve()
      return false
    })
    this.kick()
  }

  private async loop(): Promise<void> {
    while (!this.stopped && this.host.physicalRevision < this.host.compactRevision) {
      await this.walk(this.host.compactRevision, this.host.generation)
      this.settle()
    }
  }

  /** One walk of the h/ index toward `target`; returns early when the store was replaced. */
  private async walk(target: number, generation: number): Promise<void> {
    const raw = await this.host.db.get(COMPACT_CURSOR_KEY)
    const cursor = raw === undefined ? undefined : decodeCursor(raw)
    let from = cursor !== undefined && cursor.target === target ? cursor.at : HISTORY_PREFIX
    for (;;) {
      if (this.stopped || this.host.generation !== generation) return
      const {ops, next} = await this.batch(from, target)
      const deleted = ops.length / 2
      const ok = await this.host.exclusive(async () => {
        if (this.host.generation !== generation) return false
        if (next === undefined) await this.host.commitPhysical([...ops, {type: 'del', key: COMPACT_CURSOR_KEY}], target)
        else await this.host.db.write([...ops, {type: 'put', key: COMPACT_CURSOR_KEY, value: encodeCursor(target, next)}], {sync: false})
        return true
      })
      if (!ok) return
      this.batches += 1
      await this.opts.afterBatch?.({batch: this.batches, deleted})
      if (next === undefined) return
      from = next
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  /**
   * Reads up to batchEntries h/ entries from `from` and returns the deletions they allow and the
   * h/ key to continue at (undefined at the end). An entry at or below the target is deleted
   * once a later entry of the same key at or below the target is seen; the last one of a key is
   * deleted when it is a delete. The batch ends before a key's last such entry when its fate is
   * not known yet, so the next batch starts by reading it again.
   */
  private async batch(from: Uint8Array, target: number): Promise<{ops: BatchOp[], next: Uint8Array | undefined}> {
    // At least 2: a batch that reads only the entry it resumed at would make no progress.
    const limit = Math.max(2, this.opts.batchEntries ?? 1000)
    const ops: BatchOp[] = []
    const drop = (p: Pending): void => {
      ops.push({type: 'del', key: p.hkey}, {type: 'del', key: revKey(p.rev)})
    }
    let pending: Pending | undefined
    let seen = 0
    const iter = this.host.db.iterate({gte: from, lt: prefixRangeEnd(HISTORY_PREFIX), values: true})
    try {
      for await (const [k, v] of iter) {
        if (seen >= limit) return {ops, next: pending?.hkey ?? new Uint8Array(k)}
        seen += 1
        const e = readIndexEntry(this.host.dir, k, v)
        const sameKey = pending !== undefined && Buffer.compare(pending.key, e.key) === 0
        if (pending !== undefined && !sameKey && !pending.put) drop(pending)
        if (pending !== undefined && !sameKey) pending = undefined
        if (e.rev.main > target) {
          if (pending !== undefined && !pending.put) drop(pending)
          pending = undefined
          continue
        }
        if (pending !== undefined) drop(pending)
        pending = {key: e.key, hkey: new Uint8Array(k), rev: e.rev, put: e.put}
      }
    } finally {
      await iter.return?.()
    }
    if (pending !== undefined && !pending.put) drop(pending)
    return {ops, next: undefined}
  }
}

/** Checks a cursor record read at open; a damaged one stops the store instead of compacting wrongly. */
export function checkCursor(dir: string, raw: Uint8Array | undefined): void {
  if (raw !== undefined && decodeCursor(raw) === undefined) {
    throw new StorageCorruptError(dir, describeKey(COMPACT_CURSOR_KEY), 'shorter than its 8-byte target revision')
  }
}
