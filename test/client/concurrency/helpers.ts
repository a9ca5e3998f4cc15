/**
 * Helpers of the concurrency tests: a long-running child process whose output lines the test
 * waits for (etcdctl lock / elect, which hold until signalled, and lock_holder.ts, our Mutex in
 * a process of its own), stopped by pid; and small bounded waits.
 *
 * etcd_harness's etcdctl() runs a command to its end (or a line count); these tests need to act
 * while the command still runs (see the key it printed, then signal it), which is what
 * LineProcess adds.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {waitFor} from '../../integration/harness.js'

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url))
export const LOCK_HOLDER = fileURLToPath(new URL('./lock_holder.ts', import.meta.url))

const live = new Set<LineProcess>()

/** A child process whose stdout lines are collected; stopped by pid. */
export class LineProcess {
  stdout = ''
  stderr = ''
  exitCode: number | null | undefined
  readonly exited: Promise<number | null>
  private readonly proc: ChildProcess

  constructor(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    this.proc = spawn(cmd, args, {cwd: REPO_ROOT, env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
    live.add(this)
    this.proc.stdout!.on('data', (d: Buffer) => { this.stdout += d.toString() })
    this.proc.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString() })
    this.exited = new Promise((resolve) => {
      this.proc.on('error', (err) => { this.stderr += `\nspawn failed: ${err.message}`; this.exitCode = null; live.delete(this); resolve(null) })
      this.proc.on('exit', (code) => { this.exitCode = code; live.delete(this); resolve(code) })
    })
  }

  get pid(): number | undefined {
    return this.proc.pid
  }

  get lines(): string[] {
    return this.stdout.split('\n').filter((l) => l !== '')
  }

  /** Waits (bounded) until stdout has a line matching `re`; returns it. */
  async waitLine(re: RegExp, timeoutMs = 20_000): Promise<string> {
    return waitFor(`a line matching ${re} from pid ${this.pid} (stdout: ${JSON.stringify(this.stdout)}, stderr: ${JSON.stringify(this.stderr.slice(-500))})`, () => {
      const line = this.lines.find((l) => re.test(l))
      if (line !== undefined) return line
      if (this.exitCode !== undefined) throw new Error(`exited with ${this.exitCode}`)
      return undefined
    }, {timeoutMs, intervalMs: 50})
  }

  /** Sends `signal` by pid (no-op once exited). */
  signal(signal: NodeJS.Signals): void {
    if (this.exitCode !== undefined || this.pid === undefined) return
    try {
      process.kill(this.pid, signal)
    } catch {
      // already gone
    }
  }

  /** Sends `signal`, then SIGKILL if it has not exited within `timeoutMs`; resolves on exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 5000): Promise<number | null> {
    this.signal(signal)
    let timer: NodeJS.Timeout | undefined
    const overrun = new Promise<'overrun'>((resolve) => { timer = setTimeout(() => resolve('overrun'), timeoutMs) })
    const r = await Promise.race([this.exited, overrun]).finally(() => clearTimeout(timer))
    if (r === 'overrun') {
      this.signal('SIGKILL')
      return this.exited
    }
    return r
  }
}

/** Kills every LineProcess still running (for after hooks). */
export async function stopAllLineProcesses(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop('SIGKILL')))
}

/** `etcdctl --endpoints <endpoint> ...args` (API 3) as a LineProcess. */
export function etcdctlProcess(endpoint: string, args: readonly string[]): LineProcess {
  return new LineProcess('etcdctl', ['--endpoints', endpoint, ...args], {ETCDCTL_API: '3'})
}

/** Our Mutex in a process of its own (lock_holder.ts): prints `LOCKED <key>` once it holds the lock. */
export function lockHolderProcess(endpoint: string, name: string, ttl: number): LineProcess {
  return new LineProcess(process.execPath, ['--import', 'tsx', LOCK_HOLDER, endpoint, name, String(ttl)])
}

/** Settles with `p`'s outcome, or 'pending' if it has not settled within `ms`. */
export async function settledWithin<T>(p: Promise<T>, ms: number): Promise<{value: T} | {error: unknown} | 'pending'> {
  let timer: NodeJS.Timeout | undefined
  const pending = new Promise<'pending'>((resolve) => { timer = setTimeout(() => resolve('pending'), ms) })
  const outcome = p.then((value) => ({value}), (error: unknown) => ({error}))
  return Promise.race([outcome, pending]).finally(() => clearTimeout(timer))
}

export const text = (b: Uint8Array): string => Buffer.from(b).toString()
