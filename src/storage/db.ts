/**
 * The one place that talks to the `rocksdb` npm package (a leveldown-style binding with a
 * callback API). Everything else in raftctl uses this promise wrapper.
 *
 * Guarantees relied on elsewhere:
 * - `write(ops, {sync: true})` applies all ops atomically (one RocksDB WriteBatch) and returns
 *   only after the WAL is fsynced; after a crash either every op is visible or none is.
 * - An iterator reads from an implicit RocksDB snapshot taken when `iterate()` is called, so it
 *   sees one consistent state even while later writes land.
 * - Keys and values are bytes. Returned buffers are Node Buffers (which are Uint8Arrays).
 *
 * The binding does not expose RocksDB's DeleteRange inside a batch; a range delete is written as
 * point deletes of the keys known to be in the range, in the same atomic batch.
 */
import {createRequire} from 'node:module'
import {existsSync, mkdirSync} from 'node:fs'
import {dirname} from 'node:path'
import {withCode} from '../raft/errors.js'
import {asDiskFault, StorageError} from './errors.js'

/** One operation of an atomic batch. */
export type BatchOp =
  | {readonly type: 'put', readonly key: Uint8Array, readonly value: Uint8Array}
  | {readonly type: 'del', readonly key: Uint8Array}

/** Bounds of an iteration over keys in byte order: gte <= key < lt. */
export interface IterateOptions {
  readonly gte?: Uint8Array
  readonly gt?: Uint8Array
  readonly lt?: Uint8Array
  readonly lte?: Uint8Array
  readonly reverse?: boolean
  /** Maximum number of entries; undefined = no limit. */
  readonly limit?: number
  /** Whether values are read (default true). With false every value is an empty buffer. */
  readonly values?: boolean
  /**
   * Bytes the binding reads ahead in one native call (default 16 KiB): larger means fewer round
   * trips through the thread pool for a long scan, each handing over more entries at once.
   */
  readonly highWaterMark?: number
}

/**
 * Raised for a failed database operation; the message names the database location. A failure
 * caused by the file system (full, read-only, not writable) is a DiskFaultError instead.
 */
export class DbError extends withCode(StorageError, 'DB_ERROR') {}

/** A binding call that a test can make fail (see injectDbFaults). */
export type DbOperation = 'open' | 'get' | 'write' | 'iterate'

/** Returns the Error a binding call should fail with, or undefined to run it. */
export type DbFaultInjector = (op: DbOperation, location: string) => Error | undefined

let injector: DbFaultInjector | undefined

/**
 * Test seam: consulted before every binding call of this process. When it returns an Error the
 * call fails with it exactly as if the binding had failed (same wrapping, same messages) and does
 * nothing. The disk-fault tests use it where no small or read-only file system can be mounted.
 * Pass undefined (the default) to remove it.
 */
export function injectDbFaults(f: DbFaultInjector | undefined): void {
  injector = f
}

/** Runs `call` unless the injector fails it; `fail` receives the injected error. */
function guarded(op: DbOperation, location: string, fail: (err: Error) => void, call: () => void): void {
  const err = injector?.(op, location)
  if (err !== undefined) fail(err)
  else call()
}

/** RocksDB glues its context to the message ("...on deviceWhile appending..."): unglue it. */
const readable = (message: string): string => message.replace(/([a-z])While /, '$1; while ')

/** Messages of RocksDB's lock file when another process (or this one) holds it. */
const LOCKED = /lock hold by current process|Resource temporarily unavailable|No locks available|While lock file/i

type Callback<T = void> = (err: Error | null | undefined, value?: T) => void

/** The parts of the binding's object model raftctl uses (leveldown / abstract-leveldown 7). */
interface RawIterator {
  next(cb: (err: Error | null | undefined, key?: Buffer, value?: Buffer) => void): void
  end(cb: Callback): void
}
interface RawChainedBatch {
  put(key: Uint8Array, value: Uint8Array): void
  del(key: Uint8Array): void
  readonly length: number
  write(options: {sync: boolean}, cb: Callback): void
}
interface RawDb {
  open(options: object, cb: Callback): void
  close(cb: Callback): void
  get(key: Buffer, options: object, cb: Callback<Buffer>): void
  batch(): RawChainedBatch
  batch(ops: object[], options: object, cb: Callback): void
  iterator(options: object): RawIterator
  getProperty(name: string): string
  compactRange(start: Buffer, end: Buffer, cb: Callback): void
}

const requireCjs = createRequire(import.meta.url)
const rocksdb = requireCjs('rocksdb') as (location: string) => RawDb

/** A key above every key raftctl writes (they all begin with a printable ASCII prefix). */
const WHOLE_RANGE_END = new Uint8Array(32).fill(0xff)

const toBuffer = (b: Uint8Array): Buffer =>
  Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)

/**
 * Creates directory `path` and its missing parents. A disk fault becomes a DiskFaultError for
 * `what`. Node reports ENOENT when a recursive mkdir fails under a read-only or unwritable
 * parent; each missing level is then created on its own, which reports the real cause.
 */
export function makeDir(path: string, what: string): void {
  try {
    mkdirSync(path, {recursive: true})
  } catch (err) {
    throw asDiskFault(realMkdirError(path, err), what)
  }
}

function realMkdirError(path: string, err: unknown): unknown {
  if ((err as {code?: unknown}).code !== 'ENOENT') return err
  const missing: string[] = []
  for (let p = path; !existsSync(p) && dirname(p) !== p; p = dirname(p)) missing.unshift(p)
  for (const p of missing) {
    try {
      mkdirSync(p)
    } catch (e) {
      return e
    }
  }
  return err
}

/**
 * A batch built incrementally in native memory (a RocksDB WriteBatch), for writes too large to
 * hold as a JavaScript array (snapshot restore). Committed atomically by `write()`.
 */
export class ChainedBatch {
  private written = false
  constructor(private readonly raw: RawChainedBatch, private readonly db: Db) {}

  put(key: Uint8Array, value: Uint8Array): void {
    this.raw.put(toBuffer(key), toBuffer(value))
  }

  del(key: Uint8Array): void {
    this.raw.del(toBuffer(key))
  }

  /** Number of operations added so far. */
  get length(): number {
    return this.raw.length
  }

  /** Commits every op atomically; with sync (the default) waits for the fsync of the WAL. */
  async write(options: {sync?: boolean} = {}): Promise<void> {
    if (this.written) throw new DbError('a chained batch can be written only once')
    this.written = true
    const sync = options.sync ?? true
    await this.db.track(sync, () => new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => reject(this.db.wrap('write batch', err))
      guarded('write', this.db.location, fail, () => this.raw.write({sync}, (err) => (err ? fail(err) : resolve())))
    }))
  }
}

/** A RocksDB database opened at one directory. */
export class Db {
  /** Number of committed batches (write() calls and chained batches) since open; for tests. */
  batches = 0
  /** The `sync` flag of the last committed batch; for tests. */
  lastSync = false
  private closed = false

  private constructor(readonly location: string, private readonly raw: RawDb) {}

  /**
   * Opens (and with createIfMissing creates) the database in `location`. Fails with a
   * DiskFaultError when the file system is full, read-only or not writable, and otherwise with a
   * DbError naming the location, e.g. when another process holds the RocksDB lock.
   */
  static async open(location: string, options: {createIfMissing: boolean}): Promise<Db> {
    const what = `data dir ${dirname(location)}: opening RocksDB in ${location}`
    if (options.createIfMissing) makeDir(location, what)
    const raw = rocksdb(location)
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => {
        const fault = asDiskFault(new Error(readable(err.message)), what)
        if (fault instanceof StorageError) return reject(fault)
        reject(new DbError(LOCKED.test(err.message)
          ? `RocksDB in ${location} is in use by another process (${err.message})`
          : `cannot open RocksDB in ${location}: ${readable(err.message)}`))
      }
      guarded('open', location, fail, () => raw.open({createIfMissing: options.createIfMissing, errorIfExists: false},
        (err) => (err ? fail(err) : resolve())))
    })
    return new Db(location, raw)
  }

  /** Returns the value of `key`, or undefined when it does not exist. */
  get(key: Uint8Array): Promise<Buffer | undefined> {
    this.checkOpen()
    return new Promise((resolve, reject) => {
      const fail = (err: Error): void => reject(this.wrap('get', err))
      guarded('get', this.location, fail, () => this.raw.get(toBuffer(key), {asBuffer: true}, (err, value) => {
        if (!err) return resolve(value)
        if (/^NotFound/i.test(err.message)) return resolve(undefined)
        fail(err)
      }))
    })
  }

  /** Commits `ops` as one atomic batch; with sync (the default) waits for the WAL fsync. */
  async write(ops: readonly BatchOp[], options: {sync?: boolean} = {}): Promise<void> {
    this.checkOpen()
    const sync = options.sync ?? true
    const raw = ops.map((op) => op.type === 'put'
      ? {type: 'put', key: toBuffer(op.key), value: toBuffer(op.value)}
      : {type: 'del', key: toBuffer(op.key)})
    await this.track(sync, () => new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => reject(this.wrap('write batch', err))
      guarded('write', this.location, fail, () => this.raw.batch(raw, {sync}, (err) => (err ? fail(err) : resolve())))
    }))
  }

  /** Starts a batch built in native memory; see ChainedBatch. */
  chainedBatch(): ChainedBatch {
    this.checkOpen()
    return new ChainedBatch(this.raw.batch(), this)
  }

  /**
   * Iterates [gte, lt) in key order. The implicit RocksDB snapshot is taken synchronously by this
   * call (not at the first `next()`), so callers can pair it with in-memory state captured in the
   * same tick. Reaching the end, breaking out of a for-await loop or calling return() releases
   * the native iterator (also when it was never started).
   */
  iterate(options: IterateOptions = {}): AsyncIterableIterator<[Buffer, Buffer]> {
    this.checkOpen()
    const opts: Record<string, unknown> = {
      keyAsBuffer: true, valueAsBuffer: true, reverse: options.reverse ?? false,
      limit: options.limit ?? -1, values: options.values ?? true,
    }
    if (options.highWaterMark !== undefined) opts.highWaterMark = options.highWaterMark
    for (const k of ['gte', 'gt', 'lt', 'lte'] as const) {
      const v = options[k]
      if (v !== undefined) opts[k] = toBuffer(v)
    }
    return this.wrapIterator(this.raw.iterator(opts))
  }

  /** A RocksDB property such as "rocksdb.estimate-num-keys". */
  property(name: string): string {
    this.checkOpen()
    return this.raw.getProperty(name)
  }

  /**
   * Compacts every key in [start, end] (RocksDB CompactRange): rewrites those SST files without
   * deleted and overwritten records, returning their space to the file system. Reads and writes
   * go on meanwhile. Without arguments it compacts the whole database.
   */
  async compactRange(start: Uint8Array = new Uint8Array(0), end: Uint8Array = WHOLE_RANGE_END): Promise<void> {
    this.checkOpen()
    await new Promise<void>((resolve, reject) => {
      this.raw.compactRange(toBuffer(start), toBuffer(end), (err) => (err ? reject(this.wrap('compactRange', err)) : resolve()))
    })
  }

  /** Closes the database; pending iterators must have ended. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await new Promise<void>((resolve, reject) => {
      this.raw.close((err) => (err ? reject(this.wrap('close', err)) : resolve()))
    })
  }

  /** @internal Counts a committed batch. */
  async track(sync: boolean, run: () => Promise<void>): Promise<void> {
    await run()
    this.batches += 1
    this.lastSync = sync
  }

  /**
   * @internal Wraps a binding error with the operation and the location: a DiskFaultError naming
   * the data dir when the file system is at fault, else a DbError.
   */
  wrap(op: string, err: Error): StorageError {
    const fault = asDiskFault(new Error(readable(err.message)), `data dir ${dirname(this.location)}: RocksDB ${op} in ${this.location}`)
    return fault instanceof StorageError ? fault : new DbError(`RocksDB ${op} in ${this.location} failed: ${readable(err.message)}`)
  }

  private checkOpen(): void {
    if (this.closed) throw new DbError(`RocksDB in ${this.location} is closed`)
  }

  private wrapIterator(it: RawIterator): AsyncIterableIterator<[Buffer, Buffer]> {
    let ended = false
    const end = (): Promise<void> => {
      if (ended) return Promise.resolve()
      ended = true
      return new Promise<void>((resolve) => it.end(() => resolve()))
    }
    const self = {
      next: (): Promise<IteratorResult<[Buffer, Buffer]>> => {
        if (ended) return Promise.resolve({value: undefined, done: true})
        return new Promise((resolve, reject) => {
          const fail = (err: Error): void => void end().then(() => reject(this.wrap('iterator', err)))
          guarded('iterate', this.location, fail, () => it.next((err, key, value) => {
            if (err) fail(err)
            else if (key === undefined) void end().then(() => resolve({value: undefined, done: true}))
            else resolve({value: [key, value ?? Buffer.alloc(0)], done: false})
          }))
        })
      },
      return: async (): Promise<IteratorResult<[Buffer, Buffer]>> => {
        await end()
        return {value: undefined, done: true}
      },
      [Symbol.asyncIterator]: () => self,
    }
    return self
  }
}
