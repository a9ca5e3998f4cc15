/**
 * Validation of client requests. The server calls it before proposing (so a bad request is
 * refused at once), and apply calls it again on every entry (so an invalid entry that reached
 * the log anyway is applied deterministically as a no-op that reports the error).
 */
import {
  Compare_CompareResult as Result, Compare_CompareTarget as Target, type Compare,
  type DeleteRangeRequest, type InternalRequest, type PutRequest, type RangeRequest,
  type RequestOp, type TxnRequest,
} from '../generated/raftctl/v1/kv.js'
import {invalid} from './errors.js'
import {inRange, keyString, toRange, type KeyRange} from './range.js'

/** Deepest nesting of transactions inside transactions. */
export const MAX_TXN_DEPTH = 8
/** Most operations in one transaction (all branches and nested transactions together). */
export const MAX_TXN_OPS = 1024

const printable = (k: Uint8Array): string => JSON.stringify(Buffer.from(k).toString('utf8'))

/**
 * A request's key is never empty (as in etcd). Requests that name a range get the way to name
 * every key in the refusal: key "\0" with range_end "\0", which is what etcd's clients (and
 * raftctl's, for an empty key with a prefix or from-key) send.
 */
export function checkKey(what: string, key: Uint8Array, isRange = false): void {
  if (key.length === 0) {
    throw invalid(isRange ? `${what}: key is empty; to name every key, send key "\\0" with range_end "\\0"` : `${what}: key is empty`)
  }
}

function checkNonNegative(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw invalid(`${what} ${n} must be an integer >= 0`)
}

export function validateRange(r: RangeRequest): void {
  checkKey('range', r.key, true)
  checkNonNegative('range limit', r.limit)
  checkNonNegative('range revision', r.revision)
}

export function validatePut(r: PutRequest): void {
  checkKey('put', r.key)
}

export function validateDeleteRange(r: DeleteRangeRequest): void {
  checkKey('delete', r.key, true)
}

const TARGET_FIELD: Record<number, keyof Compare> = {
  [Target.VERSION]: 'version', [Target.CREATE]: 'createRevision', [Target.MOD]: 'modRevision',
  [Target.VALUE]: 'value', [Target.EXISTS]: 'exists',
}

export function validateCompare(c: Compare): void {
  checkKey('compare', c.key)
  if (!(c.result in Result) || c.result === Result.UNRECOGNIZED) throw invalid(`compare result ${c.result} is unknown`)
  const field = TARGET_FIELD[c.target]
  if (field === undefined) throw invalid(`compare target ${c.target} is unknown`)
  if (c[field] === undefined) throw invalid(`compare with target ${Target[c.target]} needs target_union.${field}`)
  for (const other of Object.values(TARGET_FIELD)) {
    if (other !== field && c[other] !== undefined) throw invalid(`compare with target ${Target[c.target]} must not set ${other}`)
  }
  if (c.target === Target.EXISTS && c.result !== Result.EQUAL && c.result !== Result.NOT_EQUAL) {
    throw invalid('compare on EXISTS allows only EQUAL and NOT_EQUAL')
  }
  if (field !== 'value' && field !== 'exists') checkNonNegative(`compare ${field}`, c[field] as number)
}

/** The keys a list of ops may write: puts (each at most once) and delete ranges. */
interface Writes {
  readonly puts: Set<string>
  readonly dels: KeyRange[]
}

function addPut(w: Writes, key: string, raw: Uint8Array): void {
  if (w.puts.has(key)) throw invalid(`txn writes key ${printable(raw)} more than once`)
  w.puts.add(key)
}

/** Validates ops and returns what they write; `count` limits the total number of ops. */
function checkOps(ops: readonly RequestOp[], depth: number, count: {n: number}): Writes {
  const w: Writes = {puts: new Set(), dels: []}
  for (const op of ops) {
    count.n += 1
    if (count.n > MAX_TXN_OPS) throw invalid(`txn has more than ${MAX_TXN_OPS} operations`)
    const set = [op.requestRange, op.requestPut, op.requestDeleteRange, op.requestTxn].filter((x) => x !== undefined)
    if (set.length !== 1) throw invalid('each txn operation must set exactly one request')
    if (op.requestRange !== undefined) validateRange(op.requestRange)
    if (op.requestPut !== undefined) {
      validatePut(op.requestPut)
      addPut(w, keyString(op.requestPut.key), op.requestPut.key)
    }
    if (op.requestDeleteRange !== undefined) {
      validateDeleteRange(op.requestDeleteRange)
      w.dels.push(toRange(op.requestDeleteRange.key, op.requestDeleteRange.rangeEnd))
    }
    if (op.requestTxn !== undefined) {
      const nested = checkTxn(op.requestTxn, depth + 1, count)
      for (const k of nested.puts) addPut(w, k, Buffer.from(k, 'latin1'))
      w.dels.push(...nested.dels)
    }
  }
  for (const k of w.puts) {
    const raw = Buffer.from(k, 'latin1')
    if (w.dels.some((d) => inRange(d, raw))) throw invalid(`txn puts key ${printable(raw)} inside a range it also deletes`)
  }
  return w
}

/**
 * Validates a txn like etcd: every compare is well-formed, every op sets one request, and within
 * one branch a key is put at most once and never both put and deleted. A nested txn counts with
 * the writes of both its branches (conservative, as etcd).
 */
function checkTxn(t: TxnRequest, depth: number, count: {n: number}): Writes {
  if (depth > MAX_TXN_DEPTH) throw invalid(`txn nesting is deeper than ${MAX_TXN_DEPTH}`)
  for (const c of t.compare) validateCompare(c)
  const s = checkOps(t.success, depth, count)
  const f = checkOps(t.failure, depth, count)
  return {puts: new Set([...s.puts, ...f.puts]), dels: [...s.dels, ...f.dels]}
}

export function validateTxn(t: TxnRequest): void {
  checkTxn(t, 1, {n: 0})
}

/** Validates the request carried by a log entry. */
export function validateRequest(r: InternalRequest): void {
  if (r.put !== undefined) validatePut(r.put)
  else if (r.deleteRange !== undefined) validateDeleteRange(r.deleteRange)
  else if (r.txn !== undefined) validateTxn(r.txn)
  else throw invalid('request carries no operation')
}
