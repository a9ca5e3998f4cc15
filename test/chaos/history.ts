/**
 * The history of a chaos run: one record per client operation, written to `<out>/history.json`
 * and read back by the checker.
 *
 * Record fields (all ops are on one key, values are strings):
 * - `op`: put | get | delete | cas. `value`: what put and cas write. `expected`: what cas compares
 *   the current value with (null = the key must be absent).
 * - `output`: get → the value read or null (absent); cas → whether it swapped; delete → whether
 *   the key existed; put → null. Null also when the outcome is unknown.
 * - `call` / `return`: integer nanoseconds of one monotonic clock (process.hrtime.bigint, counted
 *   from the start of the run). `return` is null when the outcome is unknown (deadline passed,
 *   connection lost, an error that does not prove that nothing was written): such an op may have
 *   taken effect at any time after its call, or never.
 * - `error` (optional): set when the op provably did not happen (the server refused it before
 *   proposing anything). The checker ignores such records; they stay in the file for debugging.
 * - `unknown` (optional): the error that left the outcome unknown, for debugging.
 */
import {readFileSync} from 'node:fs'

export type OpKind = 'put' | 'get' | 'delete' | 'cas'

export interface HistoryOp {
  readonly clientId: number
  readonly op: OpKind
  readonly key: string
  readonly value: string | null
  readonly expected: string | null
  readonly output: string | boolean | null
  readonly call: number
  readonly return: number | null
  readonly error?: string
  /** Why the outcome is unknown (the error the client saw), for debugging. */
  readonly unknown?: string
}

const KINDS: readonly string[] = ['put', 'get', 'delete', 'cas']

/** Checks one record's shape; returns a one-line problem or undefined. */
function problemOf(r: Record<string, unknown>): string | undefined {
  if (!Number.isSafeInteger(r.clientId)) return 'clientId must be an integer'
  if (typeof r.op !== 'string' || !KINDS.includes(r.op)) return `op must be one of ${KINDS.join(', ')}`
  if (typeof r.key !== 'string') return 'key must be a string'
  if (!Number.isSafeInteger(r.call)) return 'call must be an integer (nanoseconds)'
  if (r.return !== null && (!Number.isSafeInteger(r.return) || (r.return as number) < (r.call as number))) {
    return 'return must be null (unknown outcome) or an integer not before call'
  }
  if ((r.op === 'put' || r.op === 'cas') && typeof r.value !== 'string') return `${r.op} needs a string value`
  if (r.op === 'cas' && r.expected !== null && typeof r.expected !== 'string') return 'cas expected must be a string or null'
  const out = r.output
  if (r.return !== null && r.error === undefined) {
    if (r.op === 'get' && out !== null && typeof out !== 'string') return 'get output must be a string or null'
    if ((r.op === 'cas' || r.op === 'delete') && typeof out !== 'boolean') return `${r.op} output must be true or false`
  }
  return undefined
}

/** Parses a history file's text; throws one line naming the first bad record. */
export function parseHistory(text: string, source = 'history'): HistoryOp[] {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw new Error(`${source} is not JSON: ${(err as Error).message}`)
  }
  if (!Array.isArray(data)) throw new Error(`${source} must be a JSON array of operations`)
  data.forEach((r, i) => {
    const p = typeof r === 'object' && r !== null ? problemOf(r as Record<string, unknown>) : 'not an object'
    if (p !== undefined) throw new Error(`${source}: operation ${i}: ${p}`)
  })
  return (data as HistoryOp[]).map((r) => ({...r, value: r.value ?? null, expected: r.expected ?? null, output: r.output ?? null}))
}

export function readHistory(path: string): HistoryOp[] {
  return parseHistory(readFileSync(path, 'utf8'), path)
}

/** One line describing an op, for reports. */
export function formatOp(o: HistoryOp): string {
  const t = (ns: number | null): string => (ns === null ? '?' : (ns / 1e6).toFixed(3))
  const what = o.op === 'put' ? `put ${o.key}=${JSON.stringify(o.value)}`
    : o.op === 'cas' ? `cas ${o.key} ${JSON.stringify(o.expected)}->${JSON.stringify(o.value)}`
      : `${o.op} ${o.key}`
  const out = o.return === null ? 'unknown' : JSON.stringify(o.output)
  return `client ${o.clientId}: ${what} -> ${out}  [${t(o.call)} ms, ${t(o.return)} ms]`
}
