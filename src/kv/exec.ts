/**
 * Executes one write request (put, delete range, txn or lease request) against the store as of
 * the previous entry, collecting its writes in an overlay instead of writing them (etcd's apply of one
 * request in one write txn). Later operations of a txn see the writes of earlier ones; every
 * write of the request gets main revision `begin + 1` and the next sub revision (0, 1, 2, ...),
 * so a request that writes nothing leaves the revision unchanged. The caller commits ops()
 * together with the meta and the applied index in one batch.
 *
 * Txn semantics as etcd 3.4: every compare of the txn and of the nested txns on the chosen path
 * is evaluated against the state before the txn; then the chosen ops are checked (a put with
 * ignore_value / ignore_lease needs the key to exist, a lease must exist, a range's revision must
 * be neither compacted nor in the future), and only then run. A failed check applies nothing.
 *
 * Leases (lease_hooks.ts): a put with a lease attaches its key to it (detaching the key from its
 * old lease), ignore_lease keeps the key's lease, a delete detaches the key; a lease revoke
 * deletes every key attached to the lease in this request's one revision.
 *
 * Determinism: the result depends only on the stored state and the request, never on time or
 * on anything outside the log, so every replica computes the same writes.
 */
import {
  Compare_CompareResult as Result, Compare_CompareTarget as Target, type Compare,
  type DeleteRangeRequest, type DeleteRangeResponse, type PutRequest, type PutResponse,
  type RangeRequest, type RangeResponse, type RequestOp, type ResponseOp, type TxnRequest,
  type TxnResponse,
} from '../generated/etcd/etcdserverpb/kv.js'
import type {ResponseHeader} from '../generated/etcd/etcdserverpb/header.js'
import type {LeaseCheckpointResponse, LeaseGrantRequest, LeaseGrantResponse, LeaseRevokeResponse} from '../generated/etcd/etcdserverpb/lease.js'
import {type Event, Event_EventType, type KeyValue} from '../generated/etcd/mvccpb/kv.js'
import type {InternalRaftRequest, LeaseCheckpointEntry, LeaseRevokeEntry} from '../generated/raftctl/v1/internal.js'
import type {BatchOp, Db} from '../storage/db.js'
import {historyKey, revKey, type Revision, userKey} from '../storage/keys.js'
import {encodeKind, encodeRecord, encodeStoredKv, type HistoryRecord} from './codec.js'
import {compacted, futureRevision, KvError, leaseNotFound} from './errors.js'
import {type LeaseApply, NO_LEASE} from './lease_hooks.js'
import {dbBounds, historyBounds, inRange, isEmptyRange, keyFromString, keyString, type KeyRange, shapeRange, toRange} from './range.js'
import {collectLatest, collectPast, readStored} from './view.js'

const EMPTY = new Uint8Array(0)

/** A header carrying only a revision (etcd's op responses inside a txn); the service fills the rest. */
export const revisionHeader = (revision: number): ResponseHeader => ({clusterId: 0n, memberId: 0n, revision, raftTerm: 0})

/** Checks a read's revision (0 or less = latest) against the store; returns the revision to read at. */
export function readRevision(requested: number, current: number, compactRevision: number): number {
  if (requested <= 0) return current
  if (requested > current) throw futureRevision(requested, current)
  if (requested < compactRevision) throw compacted(requested, compactRevision)
  return requested
}

/** The response of a write request (one field set). */
export interface WriteResult {
  readonly put?: PutResponse
  readonly deleteRange?: DeleteRangeResponse
  readonly txn?: TxnResponse
  readonly leaseGrant?: LeaseGrantResponse
  readonly leaseRevoke?: LeaseRevokeResponse
  readonly leaseCheckpoint?: LeaseCheckpointResponse
}

export class Execution {
  private readonly overlay = new Map<string, KeyValue | null>()
  readonly records: Array<{rev: Revision, record: HistoryRecord}> = []
  readonly events: Event[] = []
  /** Change in the number of live keys caused by the writes. */
  countDelta = 0

  constructor(
    private readonly db: Db, private readonly dir: string,
    /** The store revision before this request. */
    readonly begin: number, private readonly compactRevision: number,
    /** The lease side of the same entry. */
    private readonly leases: LeaseApply,
  ) {}

  /** Runs the write request of a log entry (anything but a compaction). */
  async run(req: InternalRaftRequest): Promise<WriteResult> {
    if (req.put !== undefined) return {put: await this.put(req.put)}
    if (req.deleteRange !== undefined) return {deleteRange: await this.deleteRange(req.deleteRange)}
    if (req.txn !== undefined) return {txn: await this.txn(req.txn)}
    if (req.leaseGrant !== undefined) return {leaseGrant: this.leaseGrant(req.leaseGrant)}
    if (req.leaseRevoke !== undefined) return {leaseRevoke: await this.leaseRevoke(req.leaseRevoke)}
    if (req.leaseCheckpoint !== undefined) return {leaseCheckpoint: this.leaseCheckpoint(req.leaseCheckpoint)}
    throw new KvError('INVALID_REQUEST', 'the request carries no write')
  }

  /** The revision the state seen by the next op has: begin + 1 once something was written. */
  get current(): number {
    return this.records.length > 0 ? this.begin + 1 : this.begin
  }

  /** The batch operations of the writes: k/ (final state of each key), R/ and h/ records. */
  ops(): BatchOp[] {
    const ops: BatchOp[] = []
    for (const [k, kv] of this.overlay) {
      ops.push(kv === null ? {type: 'del', key: userKey(keyFromString(k))} : {type: 'put', key: userKey(kv.key), value: encodeStoredKv(kv)})
    }
    for (const {rev, record} of this.records) {
      ops.push({type: 'put', key: revKey(rev), value: encodeRecord(record)})
      ops.push({type: 'put', key: historyKey(record.kv.key, rev), value: encodeKind(record.kind)})
    }
    return ops
  }

  async get(key: Uint8Array): Promise<KeyValue | undefined> {
    const o = this.overlay.get(keyString(key))
    if (o !== undefined) return o ?? undefined
    const raw = await this.db.get(userKey(key))
    return raw === undefined ? undefined : readStored(this.dir, userKey(key), raw)
  }

  /** Every key in the range at the current state (stored state + this request's writes), in key order. */
  async rangeAll(r: KeyRange): Promise<KeyValue[]> {
    if (r.single) {
      const kv = await this.get(r.key)
      return kv === undefined ? [] : [kv]
    }
    if (isEmptyRange(r)) return []
    const byKey = new Map<string, KeyValue>()
    for (const kv of await collectLatest(this.dir, this.db.iterate(dbBounds(r)))) byKey.set(keyString(kv.key), kv)
    for (const [k, kv] of this.overlay) {
      if (!inRange(r, keyFromString(k))) continue
      if (kv === null) byKey.delete(k)
      else byKey.set(k, kv)
    }
    return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, kv]) => kv)
  }

  /** The keys of the range at revision `rev` (< current: from the history index). */
  private async rangeAt(r: KeyRange, rev: number): Promise<KeyValue[]> {
    if (rev === this.current) return this.rangeAll(r)
    if (isEmptyRange(r)) return []
    const ctx = {db: this.db, dir: this.dir, compactRevision: () => this.compactRevision}
    return collectPast(ctx, this.db.iterate(historyBounds(r)), rev)
  }

  async range(req: RangeRequest): Promise<RangeResponse> {
    const current = this.current
    const rev = readRevision(req.revision, current, this.compactRevision)
    return shapeRange(await this.rangeAt(toRange(req.key, req.rangeEnd), rev), req, revisionHeader(current))
  }

  private write(kind: HistoryRecord['kind'], kv: KeyValue, prev: KeyValue | undefined): void {
    const rev = {main: this.begin + 1, sub: this.records.length}
    this.records.push({rev, record: {kind, kv}})
    this.overlay.set(keyString(kv.key), kind === 'put' ? kv : null)
    this.events.push({type: kind === 'put' ? Event_EventType.PUT : Event_EventType.DELETE, kv, prevKv: prev})
  }

  /** etcd's put: the lease is checked first, then the key ignore_value / ignore_lease need. */
  async put(req: PutRequest): Promise<PutResponse> {
    if (req.lease !== NO_LEASE && !this.leases.exists(req.lease)) throw leaseNotFound(req.lease)
    const prev = await this.get(req.key)
    if ((req.ignoreValue || req.ignoreLease) && prev === undefined) throw keyNotFound(req.key)
    const main = this.begin + 1
    const kv: KeyValue = {
      key: req.key, createRevision: prev?.createRevision ?? main, modRevision: main, version: (prev?.version ?? 0) + 1,
      value: req.ignoreValue ? prev!.value : req.value, lease: req.ignoreLease ? prev!.lease : req.lease,
    }
    if (!req.ignoreLease) {
      if (prev !== undefined && prev.lease !== NO_LEASE) this.leases.detach(prev.lease, req.key)
      if (kv.lease !== NO_LEASE) this.leases.attach(kv.lease, req.key)
    }
    if (prev === undefined) this.countDelta += 1
    this.write('put', kv, prev)
    return {header: revisionHeader(main), prevKv: req.prevKv ? prev : undefined}
  }

  async deleteRange(req: DeleteRangeRequest): Promise<DeleteRangeResponse> {
    const gone = await this.rangeAll(toRange(req.key, req.rangeEnd))
    for (const prev of gone) {
      if (prev.lease !== NO_LEASE) this.leases.detach(prev.lease, prev.key)
      this.countDelta -= 1
      this.write('delete', {key: prev.key, createRevision: 0, modRevision: this.begin + 1, version: 0, value: EMPTY, lease: 0n}, prev)
    }
    return {header: revisionHeader(this.current), deleted: gone.length, prevKvs: req.prevKv ? gone : []}
  }

  leaseGrant(req: LeaseGrantRequest): LeaseGrantResponse {
    const {ID, TTL} = this.leases.grant(req)
    return {header: revisionHeader(this.current), ID, TTL, error: ''}
  }

  /** Revokes a lease and deletes its keys, in key order, in one revision (none without keys). */
  async leaseRevoke(entry: LeaseRevokeEntry): Promise<LeaseRevokeResponse> {
    for (const key of this.leases.applyRevoke(entry)) await this.deleteRange({key, rangeEnd: EMPTY, prevKv: false})
    return {header: revisionHeader(this.current)}
  }

  leaseCheckpoint(entry: LeaseCheckpointEntry): LeaseCheckpointResponse {
    this.leases.applyCheckpoint(entry)
    return {header: revisionHeader(this.current)}
  }

  /** etcd's compare of a range: every key must satisfy it; no key compares as a missing one. */
  async compare(c: Compare): Promise<boolean> {
    const kvs = await this.rangeAll(toRange(c.key, c.rangeEnd))
    if (kvs.length === 0) return c.target === Target.VALUE ? false : compareKv(c, undefined)
    return kvs.every((kv) => compareKv(c, kv))
  }

  /** Runs a txn; the top-level one gets the full checks first (see the module comment). */
  async txn(req: TxnRequest): Promise<TxnResponse> {
    const path = await this.comparePath(req)
    await this.checkPath(req, path.slice())
    return this.runTxn(req, path)
  }

  /** The outcome of every compare on the path, depth first: etcd's compareToPath. */
  private async comparePath(t: TxnRequest): Promise<boolean[]> {
    let ok = true
    for (const c of t.compare) {
      if (!(await this.compare(c))) {
        ok = false
        break
      }
    }
    const path = [ok]
    for (const op of ok ? t.success : t.failure) {
      if (op.requestTxn !== undefined) path.push(...(await this.comparePath(op.requestTxn)))
    }
    return path
  }

  /** Checks the ops the path runs before any runs (etcd's checkRequests); consumes `path`. */
  private async checkPath(t: TxnRequest, path: boolean[]): Promise<void> {
    for (const op of path.shift()! ? t.success : t.failure) {
      const put = op.requestPut
      if (put !== undefined) {
        if ((put.ignoreValue || put.ignoreLease) && (await this.get(put.key)) === undefined) throw keyNotFound(put.key)
        if (put.lease !== NO_LEASE && !this.leases.exists(put.lease)) throw leaseNotFound(put.lease)
      }
      if (op.requestRange !== undefined && op.requestRange.revision > 0) readRevision(op.requestRange.revision, this.begin, this.compactRevision)
      if (op.requestTxn !== undefined) await this.checkPath(op.requestTxn, path)
    }
  }

  /** Runs the ops of the path; consumes `path`. Nested txn responses carry an empty header, as etcd's. */
  private async runTxn(t: TxnRequest, path: boolean[], nested = false): Promise<TxnResponse> {
    const succeeded = path.shift()!
    const responses: ResponseOp[] = []
    for (const op of succeeded ? t.success : t.failure) responses.push(await this.op(op, path))
    return {header: revisionHeader(nested ? 0 : this.current), succeeded, responses}
  }

  private async op(op: RequestOp, path: boolean[]): Promise<ResponseOp> {
    if (op.requestRange !== undefined) return {responseRange: await this.range(op.requestRange)}
    if (op.requestPut !== undefined) return {responsePut: await this.put(op.requestPut)}
    if (op.requestDeleteRange !== undefined) return {responseDeleteRange: await this.deleteRange(op.requestDeleteRange)}
    return {responseTxn: await this.runTxn(op.requestTxn!, path, true)}
  }
}

const show = (k: Uint8Array): string => JSON.stringify(Buffer.from(k).toString('utf8'))

const keyNotFound = (key: Uint8Array): KvError =>
  new KvError('KEY_NOT_FOUND', `put ${show(key)} with ignore_value or ignore_lease needs the key to exist, and it does not`)


/** Compares one key (undefined = missing) with a compare's target value, as etcd's compareKV. */
export function compareKv(c: Compare, kv: KeyValue | undefined): boolean {
  let cmp: number
  const num = (have: number | bigint, want: bigint | undefined): number => {
    const h = BigInt(have)
    const w = want ?? 0n
    return h < w ? -1 : h > w ? 1 : 0
  }
  switch (c.target) {
    case Target.VERSION: cmp = num(kv?.version ?? 0, c.version); break
    case Target.CREATE: cmp = num(kv?.createRevision ?? 0, c.createRevision); break
    case Target.MOD: cmp = num(kv?.modRevision ?? 0, c.modRevision); break
    case Target.VALUE: cmp = Buffer.compare(kv?.value ?? EMPTY, c.value ?? EMPTY); break
    case Target.LEASE: cmp = num(kv?.lease ?? 0n, c.lease); break
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
