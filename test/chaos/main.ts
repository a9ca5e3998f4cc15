/**
 * `npm run chaos -- [flags]` runs a chaos run (run.ts) and checks its history and its locks;
 * `npm run chaos -- check <history.json>` checks a history file on its own, and
 * `npm run chaos -- check-locks <locks.json>` a lock history. See docs/testing.md.
 *
 * Prints LINEARIZABLE, NOT LINEARIZABLE (with the smallest failing sub-history of each bad key) or
 * UNKNOWN, and for locks SAFE or UNSAFE (with both records of each violation). Exit code: 0
 * linearizable and safe (and, for a run, every member converged), 1 not linearizable, unsafe or a
 * run problem, 2 bad usage, 3 unknown (a check bound was reached).
 */
import {parseArgs} from 'node:util'
import {join} from 'node:path'
import {ANY_OTHER, check, type CheckResult, type Minimised, minimise, partition} from './checker.js'
import {formatOp, type HistoryOp, readHistory} from './history.js'
import {checkLocks, formatViolation, type LockCheckResult, readLockHistory} from './lock_checker.js'
import {NEMESES, type NemesisName} from './nemesis.js'
import {runChaos} from './run.js'

const USAGE = `usage: npm run chaos -- [--nodes 3] [--duration 30s] [--clients 4] [--keys 4]
         [--lock-clients 3] [--locks 2] [--lock-ttl 2s]
         [--nemesis ${NEMESES.join(',')}|none] [--seed N] [--out DIR] [--check-timeout 120s]
       npm run chaos -- check HISTORY.json [--check-timeout 120s]
       npm run chaos -- check-locks LOCKS.json`

class UsageError extends Error {}

/**
 * Parses "500ms", "30s", "10m", or a plain number of seconds ("--duration 120" is two minutes: a
 * run is measured in seconds, as the run's first line prints it).
 */
export function parseDuration(flag: string, v: string): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(v)
  if (m === null) throw new UsageError(`${flag} must be a duration such as 30s, 10m or 500ms (got "${v}")`)
  const ms = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000)
  if (ms <= 0 || ms > 24 * 3_600_000) throw new UsageError(`${flag} must be between 1ms and 24h (got "${v}")`)
  return ms
}

function parseCount(flag: string, v: string, lo: number, hi: number): number {
  const n = Number(v)
  if (!/^\d+$/.test(v) || n < lo || n > hi) throw new UsageError(`${flag} must be an integer from ${lo} to ${hi} (got "${v}")`)
  return n
}

function parseNemeses(v: string): NemesisName[] {
  if (v === 'none') return []
  const names = v.split(',').map((s) => s.trim()).filter((s) => s !== '')
  for (const n of names) {
    if (!(NEMESES as readonly string[]).includes(n)) throw new UsageError(`--nemesis: unknown nemesis "${n}" (known: ${NEMESES.join(', ')}, or none)`)
  }
  return names as NemesisName[]
}

/** Prints the verdict and, for each bad key, its smallest failing sub-history; returns the exit code. */
function printVerdict(result: CheckResult, ops: readonly HistoryOp[], minimal?: Record<string, Minimised>): number {
  const byKey = partition(ops)
  for (const k of result.keys) {
    if (k.verdict === 'linearizable') continue
    if (k.verdict === 'unknown') {
      console.log(`key ${k.key}: unknown (${k.reason}) after ${k.ops} ops`)
      continue
    }
    const small = minimal?.[k.key] ?? minimise(byKey.get(k.key)!)
    const unknown = small.history.length - small.core.length
    const start = small.from === 0 ? 'from the start (key absent)'
      : `after ${(small.from / 1e6).toFixed(3)} ms, whatever the key held then (${small.initial.map((v) => (v === ANY_OTHER ? 'any other value' : JSON.stringify(v))).join(', ')})`
    console.log(`key ${k.key}: not linearizable; ${start}, these ${small.core.length} of its ${k.ops} ops cannot be ordered` +
      (unknown > 0 ? ` (with ${unknown} writes whose outcome is taken as unknown):` : ':'))
    for (const o of small.core) console.log(`  ${formatOp(o)}`)
  }
  const line = {'linearizable': 'LINEARIZABLE', 'not-linearizable': 'NOT LINEARIZABLE', 'unknown': 'UNKNOWN'}[result.verdict]
  const n = result.keys.length
  console.log(`${line} (${ops.length} ops over ${n} key${n === 1 ? '' : 's'})`)
  return result.verdict === 'linearizable' ? 0 : result.verdict === 'unknown' ? 3 : 1
}

/** Prints the lock-safety verdict with every violation's two records; returns the exit code (0 safe, 1 unsafe). */
function printLockVerdict(r: LockCheckResult): number {
  for (const v of r.violations) for (const line of formatViolation(v)) console.log(line)
  console.log(`locks: ${r.acquisitions} acquisitions (${r.tenures} held before their lease's bound) over ${r.locks} lock${r.locks === 1 ? '' : 's'}, ` +
    `${r.verdict === 'safe' ? 'SAFE' : 'UNSAFE'}`)
  return r.verdict === 'safe' ? 0 : 1
}

/** A lock TTL: whole seconds ("2s" or "2"), at least 1. */
function parseTtl(v: string): number {
  const m = /^(\d+)s?$/.exec(v)
  if (m === null || Number(m[1]) < 1 || Number(m[1]) > 3600) throw new UsageError(`--lock-ttl must be whole seconds from 1s to 3600s (got "${v}")`)
  return Number(m[1])
}

async function runCommand(values: Record<string, string | undefined>): Promise<number> {
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : parseCount('--seed', values.seed, 0, 2 ** 32 - 1)
  const out = values.out ?? join('chaos-out', `run-${seed}`)
  const opts = {
    nodes: parseCount('--nodes', values.nodes ?? '3', 1, 7), durationMs: parseDuration('--duration', values.duration ?? '30s'),
    clients: parseCount('--clients', values.clients ?? '4', 1, 64), keys: parseCount('--keys', values.keys ?? '4', 1, 1000),
    nemeses: parseNemeses(values.nemesis ?? NEMESES.join(',')), seed, out,
    checkTimeoutMs: parseDuration('--check-timeout', values['check-timeout'] ?? '120s'),
    lockClients: parseCount('--lock-clients', values['lock-clients'] ?? '3', 0, 64), locks: parseCount('--locks', values.locks ?? '2', 1, 100),
    lockTtlSeconds: parseTtl(values['lock-ttl'] ?? '2s'),
  }
  console.log(`chaos: seed ${seed}, ${opts.nodes} nodes, ${opts.durationMs / 1000} s, ${opts.clients} clients, ${opts.keys} keys, ` +
    `${opts.lockClients} lock clients on ${opts.locks} locks (TTL ${opts.lockTtlSeconds} s), nemeses ${opts.nemeses.join(',') || 'none'}; output in ${out}`)
  const abort = new AbortController()
  const onSignal = (): void => abort.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const r = await runChaos(opts, abort.signal)
    console.log(`ops: ${Object.entries(r.counts).map(([k, c]) => `${k} ${c.ok} ok/${c.unknown} unknown/${c.failed} failed`).join(', ')}; ` +
      `nemesis events: ${r.nemesisEvents}`)
    console.log(r.converged ? `every member holds the same data (hash ${r.hashes[0]?.hash.slice(0, 16)} at applied index ${r.hashes[0]?.appliedIndex})`
      : 'the members do NOT hold the same data')
    for (const p of r.problems) console.log(`problem: ${p}`)
    const lockCode = r.locks === undefined ? 0 : printLockVerdict(r.locks)
    const code = printVerdict(r.check, readHistory(join(out, 'history.json')), r.minimal)
    return code === 0 && (r.problems.length > 0 || lockCode !== 0) ? 1 : code
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

async function main(argv: string[]): Promise<number> {
  const {values, positionals} = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      'nodes': {type: 'string'}, 'duration': {type: 'string'}, 'clients': {type: 'string'}, 'keys': {type: 'string'},
      'nemesis': {type: 'string'}, 'seed': {type: 'string'}, 'out': {type: 'string'}, 'check-timeout': {type: 'string'},
      'lock-clients': {type: 'string'}, 'locks': {type: 'string'}, 'lock-ttl': {type: 'string'},
      'help': {type: 'boolean', short: 'h'},
    },
  })
  if (values.help === true) {
    console.log(USAGE)
    return 0
  }
  if (positionals[0] === 'check') {
    if (positionals.length !== 2) throw new UsageError('check takes one argument: the history file (e.g. chaos-out/run-1/history.json)')
    const ops = readHistory(positionals[1])
    return printVerdict(check(ops, {timeoutMs: parseDuration('--check-timeout', values['check-timeout'] ?? '120s')}), ops)
  }
  if (positionals[0] === 'check-locks') {
    if (positionals.length !== 2) throw new UsageError('check-locks takes one argument: the locks file (e.g. chaos-out/run-1/locks.json)')
    return printLockVerdict(checkLocks(readLockHistory(positionals[1])))
  }
  if (positionals.length > 0) throw new UsageError(`unknown command "${positionals[0]}" (the commands are check and check-locks; run without one to start a run)`)
  return runCommand(values as Record<string, string | undefined>)
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code }, (err: Error) => {
  const usage = err instanceof UsageError || (err as {code?: string}).code?.startsWith('ERR_PARSE_ARGS')
  console.error(`Error: ${err.message}${usage ? `\n${USAGE}` : ''}`)
  process.exitCode = usage ? 2 : 1
})
