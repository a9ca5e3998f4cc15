/**
 * Executes one write request (put, delete range or txn) against the store as of the previous
 * entry, collecting its writes in an overlay instead of writing them. Later operations of a txn
 * see the writes of earlier ones; the caller commits ops() together with the applied index in
 * one batch. All writes of one request share revision base + 1 (etcd's main revision); a request
 * that writes nothing leaves the revision unchanged.
 *
 * Determinism: the result depends only on the stored state and the request, never on time or
 * on anything outside the log, so every replica computes the same writes.
 */
import {
  Compare_CompareResult as Result, Compare_CompareTarget as Target, type Compare,
  type DeleteRangeRequest, type DeleteRangeResponse, type Event, Event_EventType, type KeyValue,
  type PutRequest, type PutResponse, type RangeRequest, type RangeResponse, type RequestOp,
  type ResponseHeader, type ResponseOp, type TxnRequest, type TxnResponse,
} from '../generated/raftctl/v1/kv.js'
import type {BatchOp, Db} from '../storage/db.js'
import {StorageCorruptError} from '../storage/errors.js'
import {describeKey, USER_PREFIX, userKey} from '../storage/keys.js'
import {decodeStoredKv, encodeStoredKv} from './codec.js'
import {KvError} from './errors.js'
import {dbBounds, inRange, isEmptyRange, keyFromString, keyString, type KeyRange, toRange} from './range.js'

const EMPTY = new Uint8Array(0)

/** Decodes a stored user record or throws StorageCorruptError naming it. */
export function readStored(dir: string, dbKey: Uint8Array, value: Uint8Array): KeyValue {
  const key = dbKey.subarray(USER_PREFIX.length)
  const d = decodeStoredKv(new Uint8Array(key), value)
  if (!d.ok) throw new StorageCorruptError(dir, `user key ${describeKey(dbKey)}`, d.problem)
  return d.value
}

/** Checks a read's revision against the store revision (only the latest state is kept). */
export function checkReadRevision(requested: number, current: number): void {
  if (requested === 0 || requested === current) return
  if (requested > current) {
    throw new KvError('FUTURE_REVISION', `revision ${requested} is in the future (the store is at revision ${current})`)
  }
  throw new KvError('COMPACTED', `revision ${requested} is compacted: raftctl keeps only the latest value of each key (revision ${current})`, current)
}

/** Shapes a RangeResponse from all matching keys in order (limit, keys_only, count_only). */
export function rangeResponse(header: ResponseHeader, all: readonly KeyValue[], req: RangeRequest): RangeResponse {
  const limited = req.limit > 0 ? all.slice(0, req.limit) : all
  const kvs = req.countOnly ? [] : limited.map((kv) => (req.keysOnly ? {...kv, value: EMPTY} : kv))
  return {header, kvs, more: req.limit > 0 && all.length > req.limit, count: all.length}
}

export class Execution {
  private readonly overlay = new Map<string, KeyValue | null>()
  readonly events: Event[] = []
  /** Change in the number of keys caused by the writes. */
  countDelta = 0
  /** The header shared by every response of this request; its revision is set by finish(). */
  readonly header: ResponseHeader

  constructor(
    private readonly db: Db, private readonly dir: string, readonly baseRevision: number,
    ids: {clusterId: number, memberId: number},
  ) {
    this.header = {clusterId: ids.clusterId, memberId: ids.memberId, revision: baseRevision, raftTerm: 0}
  }

  /** The revision of the writes of this request. */
  get revision(): number {
    return this.baseRevision + 1
  }

  get wrote(): boolean {
    return this.overlay.size > 0
  }

  /** Sets the shared header's revision; returns the store revision after this request. */
  finish(): number {
    this.header.revision = this.wrote ? this.revision : this.baseRevision
    return this.header.revision
  }

  /** The batch operations of the writes, in key order. */
  ops(): BatchOp[] {
    return [...this.overlay.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, kv]) =>
      kv === null ? {type: 'del', key: userKey(keyFromString(k))} : {type: 'put', key: userKey(kv.key), value: encodeStoredKv(kv)})
  }

  async get(key: Uint8Array): Promise<KeyValue | undefined> {
    const o = this.overlay.get(keyString(key))
    if (o !== undefined) return o ?? undefined
    const raw = await this.db.get(userKey(key))
    return raw === undefined ? undefined : readStored(this.dir, userKey(key), raw)
  }

  /** Every key in the range, stored state merged with this request's writes, in key order. */
  async rangeAll(r: KeyRange): Promise<KeyValue[]> {
    if (r.single) {
      const kv = await this.get(r.key)
      return kv === undefined ? [] : [kv]
    }
    if (isEmptyRange(r)) return []
    const byKey = new Map<string, KeyValue>()
    for await (const [k, v] of this.db.iterate(dbBounds(r))) {
      const kv = readStored(this.dir, k, v)
      byKey.set(keyString(kv.key), kv)
    }
    for (const [k, kv] of this.overlay) {
      if (!inRange(r, keyFromString(k))) continue
      if (kv === null) byKey.delete(k)
      else byKey.set(k, kv)
    }
    return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, kv]) => kv)
  }

  async range(req: RangeRequest): Promise<RangeResponse> {
    checkReadRevision(req.revision, this.baseRevision)
    return rangeResponse(this.header, await this.rangeAll(toRange(req.key, req.rangeEnd)), req)
  }

  async put(req: PutRequest): Promise<PutResponse> {
    const prev = await this.get(req.key)
    const rev = this.revision
    const kv: KeyValue = prev === undefined
      ? {key: req.key, createRevision: rev, modRevision: rev, version: 1, value: req.value}
      : {key: req.key, createRevision: prev.createRevision, modRevision: rev, version: prev.version + 1, value: req.value}
    this.overlay.set(keyString(req.key), kv)
    if (prev === undefined) this.countDelta += 1
    this.events.push({type: Event_EventType.PUT, kv, prevKv: prev})
    return {header: this.header, prevKv: req.prevKv ? prev : undefined}
  }

  async deleteRange(req: DeleteRangeRequest): Promise<DeleteRangeResponse> {
    const gone = await this.rangeAll(toRange(req.key, req.rangeEnd))
    for (const prev of gone) {
      this.overlay.set(keyString(prev.key), null)
      this.countDelta -= 1
      const kv: KeyValue = {key: prev.key, createRevision: 0, modRevision: this.revision, version: 0, value: EMPTY}
      this.events.push({type: Event_EventType.DELETE, kv, prevKv: prev})
    }
    return {header: this.header, deleted: gone.length, prevKvs: req.prevKv ? gone : []}
  }

  async compare(c: Compare): Promise<boolean> {
    const kvs = await this.rangeAll(toRange(c.key, c.rangeEnd))
    if (kvs.length === 0) return c.target === Target.VALUE ? false : compareKv(c, undefined)
    return kvs.every((kv) => compareKv(c, kv))
  }

  async txn(req: TxnRequest): Promise<TxnResponse> {
    let succeeded = true
    for (const c of req.compare) {
      if (!(await this.compare(c))) {
        succeeded = false
        break
      }
    }
    const responses: ResponseOp[] = []
    for (const op of succeeded ? req.success : req.failure) responses.push(await this.op(op))
    return {header: this.header, succeeded, responses}
  }

  private async op(op: RequestOp): Promise<ResponseOp> {
    if (op.requestRange !== undefined) return {responseRange: await this.range(op.requestRange)}
    if (op.requestPut !== undefined) return {responsePut: await this.put(op.requestPut)}
    if (op.requestDeleteRange !== undefined) return {responseDeleteRange: await this.deleteRange(op.requestDeleteRange)}
    return {responseTxn: await this.txn(op.requestTxn!)}
  }
}

/** Compares one key (undefined = missing) with a compare's target value. */
export function compareKv(c: Compare, kv: KeyValue | undefined): boolean {
  let cmp: number
  switch (c.target) {
    case Target.VERSION: cmp = Math.sign((kv?.version ?? 0) - c.version!); break
    case Target.CREATE: cmp = Math.sign((kv?.createRevision ?? 0) - c.createRevision!); break
    case Target.MOD: cmp = Math.sign((kv?.modRevision ?? 0) - c.modRevision!); break
    case Target.VALUE: cmp = Buffer.compare(kv?.value ?? EMPTY, c.value!); break
    case Target.EXISTS: cmp = (kv !== undefined) === c.exists ? 0 : 1; break
    default: return false
  }
  switch (c.result) {
    case Result.EQUAL: return cmp === 0
    case Result.NOT_EQUAL: return cmp !== 0
    case Result.GREATER: return cmp > 0
    case Result.LESS: return cmp < 0
    default: return false
  }
}
