/**
 * Validation of client requests with etcd 3.4's rules (its v3rpc key.go checks, in the same
 * order, so the first error reported is etcd's). The server calls these before proposing, so a
 * bad request is refused at once; apply calls them again on every entry, so an invalid entry
 * that reached the log anyway is applied identically everywhere as a no-op reporting the error.
 * Apply passes no `maxTxnOps` (the limit is the receiving member's admission setting, as in
 * etcd, and must not make members disagree).
 */
import {
  Compare_CompareResult as Result, Compare_CompareTarget as Target, type DeleteRangeRequest,
  type PutRequest, RangeRequest_SortOrder as SortOrder, RangeRequest_SortTarget as SortTarget,
  type RangeRequest, type RequestOp, type TxnRequest,
} from '../generated/etcd/etcdserverpb/kv.js'
import type {InternalRaftRequest} from '../generated/raftctl/v1/internal.js'
import {invalid, KvError} from './errors.js'
import {inRange, keyString, toRange, type KeyRange} from './range.js'

/** etcd's --max-txn-ops default: most ops in one branch (or compares) of a txn. */
export const DEFAULT_MAX_TXN_OPS = 128
/**
 * Deepest nesting of txns inside txns that apply accepts. etcd bounds nesting only through its
 * ops limit (each level spends at least one op of the budget), which apply does not use; this
 * constant keeps apply's recursion bounded and is the same on every member.
 */
export const MAX_TXN_DEPTH = 1024

const show = (k: Uint8Array): string => JSON.stringify(Buffer.from(k).toString('utf8'))

/**
 * A request's key is never empty (etcd's "key is not provided"). Requests that name a range get
 * the way to name every key in the refusal: key "\0" with range_end "\0", which is what etcd's
 * clients (and raftctl's, for an empty key with a prefix or from-key) send.
 */
export function checkKey(what: string, key: Uint8Array, isRange = false): void {
  if (key.length === 0) {
    throw new KvError('EMPTY_KEY', isRange ? `${what}: the key is empty; to name every key, send key "\\0" with range_end "\\0"` : `${what}: the key is empty`)
  }
}

function checkEnum(what: string, e: object, v: number): void {
  if (!Object.values(e).includes(v) || v < 0) throw invalid(`${what} ${v} is not one of etcd's values`)
}

export function validateRange(r: RangeRequest): void {
  checkKey('range', r.key, true)
  checkEnum('range sort_order', SortOrder, r.sortOrder)
  checkEnum('range sort_target', SortTarget, r.sortTarget)
}

export function validatePut(r: PutRequest): void {
  checkKey('put', r.key)
  if (r.ignoreValue && r.value.length !== 0) throw new KvError('VALUE_PROVIDED', `put ${show(r.key)}: ignore_value is set but a value is given`)
  if (r.ignoreLease && r.lease !== 0n) throw new KvError('LEASE_PROVIDED', `put ${show(r.key)}: ignore_lease is set but lease ${r.lease} is given`)
}

export function validateDeleteRange(r: DeleteRangeRequest): void {
  checkKey('delete', r.key, true)
}

/** etcd's checkTxnRequest: op counts against the budget, compare keys, then each op. */
function checkTxnShape(t: TxnRequest, budget: number, depth: number): void {
  if (depth > MAX_TXN_DEPTH) throw invalid(`txn nesting is deeper than ${MAX_TXN_DEPTH}`)
  const opc = Math.max(t.compare.length, t.success.length, t.failure.length)
  if (opc > budget) {
    throw new KvError('TOO_MANY_OPS', `txn has ${opc} operations in one branch (or compares); the limit is ${budget}`)
  }
  for (const c of t.compare) {
    checkKey('txn compare', c.key)
    checkEnum('compare result', Result, c.result)
    checkEnum('compare target', Target, c.target)
  }
  for (const op of [...t.success, ...t.failure]) checkOp(op, budget - opc, depth)
}

function checkOp(op: RequestOp, budget: number, depth: number): void {
  const set = [op.requestRange, op.requestPut, op.requestDeleteRange, op.requestTxn].filter((x) => x !== undefined).length
  if (set === 0) throw new KvError('KEY_NOT_FOUND', 'a txn operation sets no request (range, put, delete_range or txn)')
  if (set > 1) throw invalid('a txn operation sets more than one request')
  if (op.requestRange !== undefined) validateRange(op.requestRange)
  if (op.requestPut !== undefined) validatePut(op.requestPut)
  if (op.requestDeleteRange !== undefined) validateDeleteRange(op.requestDeleteRange)
  if (op.requestTxn !== undefined) checkTxnShape(op.requestTxn, budget, depth + 1)
}

/**
 * The interval a delete writes, as etcd 3.4's duplicate check sees it: a point for an empty
 * range_end, else [key, range_end) taken literally, so a range_end at or below the key (which
 * includes "\0", etcd's "every key >= key") covers nothing in this check.
 */
function deleteInterval(d: DeleteRangeRequest): KeyRange {
  if (d.rangeEnd.length === 0) return toRange(d.key, d.rangeEnd)
  return {key: d.key, end: d.rangeEnd, single: false}
}

const dup = (k: string): KvError =>
  new KvError('DUPLICATE_KEY', `txn writes key ${show(Buffer.from(k, 'latin1'))} more than once (two puts, or a put inside a range it also deletes)`)

/**
 * etcd's checkIntervals: within one list of ops (and the branches of txns nested in it) a key is
 * put at most once and never put inside a range deleted at the same or a higher level. The two
 * branches of one nested txn may put the same key (only one of them runs).
 */
function checkIntervals(ops: readonly RequestOp[]): {puts: Set<string>, dels: KeyRange[]} {
  const dels: KeyRange[] = []
  for (const op of ops) if (op.requestDeleteRange !== undefined) dels.push(deleteInterval(op.requestDeleteRange))
  const deleted = (k: string): boolean => dels.some((d) => inRange(d, Buffer.from(k, 'latin1')))
  const puts = new Set<string>()
  for (const op of ops) {
    if (op.requestTxn === undefined) continue
    const then = checkIntervals(op.requestTxn.success)
    const other = checkIntervals(op.requestTxn.failure)
    for (const k of then.puts) {
      if (puts.has(k) || deleted(k)) throw dup(k)
      puts.add(k)
    }
    for (const k of other.puts) {
      if ((puts.has(k) && !then.puts.has(k)) || deleted(k)) throw dup(k)
      puts.add(k)
    }
    dels.push(...then.dels, ...other.dels)
  }
  for (const op of ops) {
    if (op.requestPut === undefined) continue
    const k = keyString(op.requestPut.key)
    if (puts.has(k) || deleted(k)) throw dup(k)
    puts.add(k)
  }
  return {puts, dels}
}

/**
 * Validates a txn as etcd's Txn handler does: the shape (op counts against `maxTxnOps` when
 * given, keys, each op), then duplicate writes in each branch.
 */
export function validateTxn(t: TxnRequest, maxTxnOps?: number): void {
  checkTxnShape(t, maxTxnOps ?? Number.MAX_SAFE_INTEGER, 1)
  checkIntervals(t.success)
  checkIntervals(t.failure)
}

/** True when every op of the txn (both branches, nested txns included) is a range. */
export function isReadOnlyTxn(t: TxnRequest): boolean {
  return [...t.success, ...t.failure].every((op) =>
    op.requestRange !== undefined || (op.requestTxn !== undefined && isReadOnlyTxn(op.requestTxn)))
}

/**
 * Validates the request carried by a log entry (no ops limit: see the module comment). Lease
 * requests are checked by the lease hooks that apply them.
 */
export function validateRequest(r: InternalRaftRequest): void {
  if (r.put !== undefined) validatePut(r.put)
  else if (r.deleteRange !== undefined) validateDeleteRange(r.deleteRange)
  else if (r.txn !== undefined) validateTxn(r.txn)
  else if (r.compaction !== undefined) {
    if (r.compaction.revision < 0) throw invalid(`compaction revision ${r.compaction.revision} is negative`)
  } else if (r.leaseGrant === undefined && r.leaseRevoke === undefined && r.leaseCheckpoint === undefined) {
    throw invalid('the request carries no operation')
  }
}
