/**
 * Runs the BUILT raftctl CLI (`node bin/run.js ...`, i.e. dist/) as a child process with no
 * terminal, the way a script runs it: stdin is a pipe closed at once (or fed `input`), stdout and
 * stderr are collected, NO_COLOR is set. Every run is bounded by a timeout and killed by pid when
 * it overruns. `spawnCli` keeps a command running (e.g. `member add --wait`, `kv watch`) so a test
 * can read its output while it waits and then signal it. `runCliTty` runs on a pseudo-terminal to
 * answer prompts. Generic: any command test may import it.
 */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {closeSync, openSync} from 'node:fs'
import {join} from 'node:path'
import {ensureBuilt, REPO_ROOT, stopAll, TestCluster, waitFor} from '../integration/harness.js'

const RUN_BIN = join(REPO_ROOT, 'bin', 'run.js')

/** The outcome of one CLI run. `code` is null when the process was killed (see `signal`). */
export interface CliResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  /** stdout exactly as written (for binary output). */
  readonly stdoutBytes: Buffer
}

export interface CliOptions {
  /** Written to stdin, which is then closed. Default: nothing (closed at once). */
  readonly input?: string | Buffer
  readonly cwd?: string
  /** Killed (SIGKILL, by pid) after this long. Default 30 s. */
  readonly timeoutMs?: number
  readonly env?: NodeJS.ProcessEnv
  /** The entry script and node options (default bin/run.js; bin/dev.js needs ['--import', 'tsx']). */
  readonly script?: string
  readonly nodeArgs?: readonly string[]
}

/** bin/dev.js as its shebang runs it: the CLI from src/ through tsx. */
export const DEV_ENTRY = {script: join(REPO_ROOT, 'bin', 'dev.js'), nodeArgs: ['--import', 'tsx', '--no-warnings']} as const

/**
 * A CLI process still running; `done` resolves with its result once it exits (killed by the
 * timeout when it overruns, so `done` always settles).
 */
export class CliProcess {
  stdout = ''
  stderr = ''
  private readonly stdoutChunks: Buffer[] = []
  readonly done: Promise<CliResult>
  private readonly child: ChildProcess
  private readonly timer: NodeJS.Timeout

  constructor(readonly args: readonly string[], opts: CliOptions = {}) {
    const child: ChildProcess = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.script ?? RUN_BIN, ...args], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: {...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...opts.env},
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.child = child
    this.timer = setTimeout(() => sigkill(child), opts.timeoutMs ?? 30_000)
    child.stdout!.on('data', (d: Buffer) => {
      this.stdoutChunks.push(d)
      this.stdout += d.toString()
    })
    child.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString() })
    this.done = new Promise((resolve, reject) => {
      child.on('error', (err) => { clearTimeout(this.timer); reject(err) })
      child.on('close', (code, signal) => {
        clearTimeout(this.timer)
        resolve({code, signal, stdout: this.stdout, stderr: this.stderr, stdoutBytes: Buffer.concat(this.stdoutChunks)})
      })
    })
    child.stdin!.on('error', () => {})
    child.stdin!.end(opts.input ?? '')
  }

  /** Waits (bounded) until stdout matches `re`; returns the match. */
  async waitStdout(re: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    return waitFor(`stdout matching ${re} (so far: ${JSON.stringify(this.stdout)}, stderr: ${JSON.stringify(this.stderr)})`,
      () => this.stdout.match(re) ?? undefined, {timeoutMs, intervalMs: 50})
  }

  /** Waits (bounded) until stdout (or stderr, per `where`) contains `text`. */
  async waitOutput(text: string, where: 'stdout' | 'stderr' = 'stdout', timeoutMs = 15_000): Promise<true> {
    return waitFor(`"${text}" on the ${where} of the CLI (so far: ${JSON.stringify(this[where])})`,
      () => this[where].includes(text), {timeoutMs, intervalMs: 50})
  }

  /**
   * Sends `signal` by pid (unless the process already exited) and waits, bounded by `timeoutMs`,
   * for the exit; returns the result. On overrun the process is SIGKILLed and this throws.
   */
  async stop(signal: NodeJS.Signals, timeoutMs = 10_000): Promise<CliResult> {
    if (running(this.child)) {
      try {
        process.kill(this.child.pid!, signal)
      } catch {
        // exited meanwhile; `done` reports how
      }
    }
    let timer: NodeJS.Timeout | undefined
    const overrun = new Promise<'overrun'>((resolve) => { timer = setTimeout(() => resolve('overrun'), timeoutMs) })
    const r = await Promise.race([this.done, overrun]).finally(() => clearTimeout(timer))
    if (r === 'overrun') {
      sigkill(this.child)
      throw new Error(`raftctl ${this.args.join(' ')} did not exit within ${timeoutMs} ms after ${signal}`)
    }
    return r
  }

  /** SIGKILLs the process by pid if it is still running (for after hooks). */
  kill(): void {
    sigkill(this.child)
  }
}

function running(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null
}

function sigkill(child: ChildProcess): void {
  if (!running(child)) return
  try {
    process.kill(child.pid!, 'SIGKILL')
  } catch {
    // already gone
  }
}

/** Starts `raftctl ...args` and returns the running process. */
export function spawnCli(args: readonly string[], opts: CliOptions = {}): CliProcess {
  return new CliProcess(args, opts)
}

/** Runs `raftctl ...args` to completion and returns its exit code and output. */
export function runCli(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  return new CliProcess(args, opts).done
}

/**
 * Runs `raftctl ...args` with stdout redirected to the file `path` (as `raftctl ... > path` in a
 * shell: stdout is a file, not a pipe or terminal); returns the exit code and stderr. Bounded by
 * timeoutMs (killed by pid).
 */
export function runCliToFile(args: readonly string[], path: string, timeoutMs = 30_000): Promise<{code: number | null, stderr: string}> {
  const fd = openSync(path, 'w')
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUN_BIN, ...args], {cwd: REPO_ROOT, env: {...process.env, NO_COLOR: '1'}, stdio: ['ignore', fd, 'pipe']})
    closeSync(fd)
    let stderr = ''
    const timer = setTimeout(() => sigkill(child), timeoutMs)
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('error', (err) => { clearTimeout(timer); reject(err) })
    child.on('close', (code) => { clearTimeout(timer); resolve({code, stderr}) })
  })
}

/** Runs with --json and parses stdout; throws with the whole output when it is not JSON. */
export async function runCliJson<T = Record<string, unknown>>(args: readonly string[], opts: CliOptions = {}): Promise<{result: CliResult, json: T}> {
  const result = await runCli([...args, '--json'], opts)
  try {
    return {result, json: JSON.parse(result.stdout) as T}
  } catch {
    throw new Error(`raftctl ${args.join(' ')} --json printed no JSON (exit ${result.code}): ${result.stdout} ${result.stderr}`)
  }
}

/** The one line an error run printed: stderr trimmed; fails the expectation when more lines came. */
export function errorLine(r: CliResult): string {
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '')
  if (lines.length !== 1) throw new Error(`expected one error line, got ${lines.length}: ${JSON.stringify(r.stderr)}`)
  return lines[0]
}

/**
 * Splits a shell line printed by the CLI (words separated by spaces; single-quoted words as
 * shellQuote writes them) into its arguments.
 */
export function splitShellLine(line: string): string[] {
  const out: string[] = []
  const re = /'((?:[^']|'\\'')*)'|(\S+)/g
  for (const m of line.trim().matchAll(re)) out.push(m[1] !== undefined ? m[1].replaceAll('\'\\\'\'', '\'') : m[2])
  return out
}

/** A scripted answer for runCliTty: when the output so far matches `when`, type `send`. */
export interface TtyAnswer {
  readonly when: RegExp
  readonly send: string
}

const shq = (a: string): string => /^[A-Za-z0-9_./:=,@%+-]+$/.test(a) ? a : `'${a.replaceAll('\'', '\'\\\'\'')}'`

/** True when util-linux `script` (used to give the CLI a pseudo-terminal) is installed. */
export function hasScript(): boolean {
  try {
    return spawnSync('script', ['--version'], {stdio: 'ignore', timeout: 5000}).status === 0
  } catch {
    return false
  }
}

/**
 * Runs `raftctl ...args` on a pseudo-terminal (util-linux `script -qefc`), so prompts are shown;
 * types each answer, in order, once its `when` matches the output that came after the previous
 * answer (stdout and stderr share the terminal). `onOutput` sees the output as it grows (e.g. to start a node from a printed line).
 * Bounded by timeoutMs like every run; the result has everything in `stdout`.
 */
export function runCliTty(args: readonly string[], answers: readonly TtyAnswer[],
  opts: CliOptions & {onOutput?: (out: string) => void} = {}): Promise<CliResult> {
  const cmd = [process.execPath, RUN_BIN, ...args].map(shq).join(' ')
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qefc', cmd, '/dev/null'], {
      cwd: opts.cwd ?? REPO_ROOT, env: {...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...opts.env}, stdio: ['pipe', 'pipe', 'pipe'],
    })
    let out = ''
    let next = 0
    let from = 0
    const timer = setTimeout(() => sigkill(child), opts.timeoutMs ?? 30_000)
    const onData = (d: Buffer): void => {
      out += d.toString()
      opts.onOutput?.(out)
      if (next < answers.length && answers[next].when.test(out.slice(from))) {
        from = out.length
        const send = answers[next++].send
        setTimeout(() => child.stdin!.write(send), 100)
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.stdin!.on('error', () => {})
    child.on('error', (err) => { clearTimeout(timer); reject(err) })
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({code, signal, stdout: out, stderr: '', stdoutBytes: Buffer.from(out)}) })
  })
}

/** A running 3-node test cluster and the `--endpoints` flag naming all three client addresses. */
export interface ThreeNodes {
  readonly tc: TestCluster
  readonly E: string[]
  /** The leader once the nodes agree on one. */
  readonly leader: number
}

/** Builds dist/ if needed and bootstraps a 3-node cluster (for a describe block's before hook). */
export async function startThreeNodes(): Promise<ThreeNodes> {
  ensureBuilt()
  const tc = new TestCluster()
  await tc.bootstrap(3)
  const leader = await tc.waitLeader()
  return {tc, leader, E: ['--endpoints', [1, 2, 3].map((id) => tc.node(id).client).join(',')]}
}

/** Closes the cluster's clients and stops every process the tests started (an after hook). */
export async function stopNodes(tc: TestCluster | undefined): Promise<void> {
  tc?.close()
  await stopAll()
}
