/**
 * Runs the raftctl CLI as a child process, the way an operator runs it, and returns its exit code
 * and output. Uses bin/dev.js so the tests exercise src/ without a build step. Every run is bounded
 * by a timeout and killed (by pid) when it overruns.
 */
import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
const DEV_BIN = fileURLToPath(new URL('../../bin/dev.js', import.meta.url))

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface CliOptions {
  readonly input?: string
  readonly env?: NodeJS.ProcessEnv
  readonly cwd?: string
  readonly timeoutMs?: number
}

/** Runs `raftctl ...args` to completion (or kills it after timeoutMs) and collects its output. */
export function runCli(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--no-warnings', DEV_BIN, ...args], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: {...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...opts.env},
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => { if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL') },
      opts.timeoutMs ?? 30_000)
    child.on('error', (err) => { clearTimeout(timer); reject(err) })
    child.on('close', (code) => { clearTimeout(timer); resolve({code, stdout, stderr}) })
    child.stdin.end(opts.input ?? '')
  })
}
