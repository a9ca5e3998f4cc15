/**
 * Runs a one-shot command to completion without a terminal (stdin ignored), collecting stdout and
 * stderr, with NO_COLOR set. The process is killed by pid with SIGKILL when it overruns
 * `timeoutMs`, so the returned promise always settles.
 */
import {spawn} from 'node:child_process'

export interface RunResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface RunOptions {
  readonly cwd: string
  /** Added to this process's environment. */
  readonly env?: NodeJS.ProcessEnv
  /** Default 30 s. */
  readonly timeoutMs?: number
}

export function runProcess(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {cwd: opts.cwd, env: {...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...opts.env}, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => { if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL') }, opts.timeoutMs ?? 30_000)
    child.on('error', (err) => { clearTimeout(timer); reject(err) })
    child.on('close', (code) => { clearTimeout(timer); resolve({code, stdout, stderr}) })
  })
}
