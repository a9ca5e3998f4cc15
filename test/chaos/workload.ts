/**
 * The clients of a chaos run: each runs, until stopped, a random mix of put, linearizable get,
 * delete and compare-and-swap (a Txn: value equal → put; absent → create revision 0) over a few
 * keys through the typed client, one op at a time, each with a deadline, and records every op in
 * the history.
 *
 * Outcomes: an op that returned is recorded with its output and return time. An op that failed
 * with an error proving nothing was written (INVALID_ARGUMENT, or a not-leader refusal, which the
 * server sends before proposing) is recorded with `error`. Any other failure (deadline, lost
 * connection, an internal error) leaves the outcome unknown: `return` is null, never "failed".
 */
import {status} from '@grpc/grpc-js'
import {ClientError, RaftctlClient} from '../../src/client/index.js'
import {type Compare, Compare_CompareResult, Compare_CompareTarget} from '../../src/generated/etcd/etcdserverpb/kv.js'
import type {HistoryOp, OpKind} from './history.js'
import type {Rng} from './rng.js'

export interface WorkloadOptions {
  readonly endpoints: readonly string[]
  readonly clients: number
  readonly keys: number
  /** Deadline of one op, retries included. */
  readonly opTimeoutMs: number
}

const enc = new TextEncoder()
const dec = new TextDecoder()

/** Nanoseconds since `t0` on the monotonic clock. */
export const nowNs = (t0: bigint): number => Number(process.hrtime.bigint() - t0)

export const keyName = (i: number): string => `chaos/k${i}`

/** True when the error proves the op was not carried out. */
export function provesNothingHappened(err: unknown): boolean {
  if (!(err instanceof ClientError)) return false
  if (err.code === status.INVALID_ARGUMENT) return true
  return err.code === status.FAILED_PRECONDITION && /is not the leader/.test(err.message)
}

/** Runs one op against the cluster; returns its output (see history.ts). */
export async function perform(c: RaftctlClient, op: OpKind, key: string, value: string | null, expected: string | null): Promise<string | boolean | null> {
  switch (op) {
    case 'put':
      await c.put(key, value!)
      return null
    case 'get': {
      const kv = await c.get(key)
      return kv === undefined ? null : dec.decode(kv.value)
    }
    case 'delete':
      return Number((await c.deleteRange(key)).deleted) > 0
    case 'cas': {
      const base = {result: Compare_CompareResult.EQUAL, key: enc.encode(key), rangeEnd: new Uint8Array(0)}
      const compare: Compare = expected === null
        ? {...base, target: Compare_CompareTarget.VERSION, version: 0n}
        : {...base, target: Compare_CompareTarget.VALUE, value: enc.encode(expected)}
      const r = await c.txn({compare: [compare], success: [{requestPut: {key: enc.encode(key), value: enc.encode(value!), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false}}]})
      return r.succeeded
    }
  }
}

/** Records ops as they complete; shared by every client of the run. */
export class Recorder {
  readonly ops: HistoryOp[] = []

  constructor(readonly t0: bigint) {}

  /** Runs `op` with client `c` and records it with its outcome. */
  async run(clientId: number, c: RaftctlClient, op: OpKind, key: string, value: string | null, expected: string | null): Promise<HistoryOp> {
    const call = nowNs(this.t0)
    let rec: HistoryOp
    try {
      const output = await perform(c, op, key, value, expected)
      rec = {clientId, op, key, value, expected, output, call, return: nowNs(this.t0)}
    } catch (err) {
      const error = `${(err as ClientError).codeName ?? 'ERROR'}: ${(err as Error).message}`
      rec = provesNothingHappened(err)
        ? {clientId, op, key, value, expected, output: null, call, return: nowNs(this.t0), error}
        : {clientId, op, key, value, expected, output: null, call, return: null, unknown: error}
    }
    this.ops.push(rec)
    return rec
  }
}

/** One client's loop: random ops until `stop()` says so. */
async function clientLoop(id: number, opts: WorkloadOptions, rng: Rng, rec: Recorder, stop: () => boolean): Promise<void> {
  const c = new RaftctlClient({endpoints: opts.endpoints, timeoutMs: opts.opTimeoutMs})
  const seen = new Map<string, string | null>()
  let seq = 0
  try {
    for (let i = 0; i < 1_000_000 && !stop(); i++) {
      const key = keyName(rng.int(0, opts.keys - 1))
      const r = rng.next()
      const op: OpKind = r < 0.35 ? 'get' : r < 0.65 ? 'put' : r < 0.85 ? 'cas' : 'delete'
      const value = op === 'put' || op === 'cas' ? `c${id}-${seq++}` : null
      const expected = op === 'cas' ? (rng.chance(0.8) ? seen.get(key) ?? null : null) : null
      const o = await rec.run(id, c, op, key, value, expected)
      if (o.return === null) continue
      if (o.op === 'get') seen.set(key, o.output as string | null)
      else if (o.op === 'put' || (o.op === 'cas' && o.output === true)) seen.set(key, value)
      else if (o.op === 'delete') seen.set(key, null)
    }
  } finally {
    c.close()
  }
}

/** Runs `opts.clients` client loops until `stop()`; resolves when every loop has ended. */
export async function runClients(opts: WorkloadOptions, rng: Rng, rec: Recorder, stop: () => boolean): Promise<void> {
  await Promise.all(Array.from({length: opts.clients}, (_, i) => clientLoop(i, opts, rng.fork(), rec, stop)))
}

/**
 * Reads every key once more (linearizable, retried until one read answers or `timeoutMs`
 * passes) and records the reads in the history under client id `clientId`, so the checker
 * explains the final state by the history: an acknowledged write missing from it is caught.
 */
export async function finalReads(opts: WorkloadOptions, rec: Recorder, clientId: number, timeoutMs: number): Promise<number> {
  const c = new RaftctlClient({endpoints: opts.endpoints, timeoutMs: opts.opTimeoutMs})
  const deadline = Date.now() + timeoutMs
  let answered = 0
  try {
    for (let k = 0; k < opts.keys; k++) {
      for (let attempt = 0; attempt < 100 && Date.now() < deadline; attempt++) {
        if ((await rec.run(clientId, c, 'get', keyName(k), null, null)).return !== null) {
          answered += 1
          break
        }
      }
    }
  } finally {
    c.close()
  }
  return answered
}
