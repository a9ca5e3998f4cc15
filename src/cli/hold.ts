/**
 * What `raftctl lock` and `raftctl elect` share: a session whose end (its lease expired or could
 * not be confirmed within its TTL) is reported on stderr at once, and a command run while the
 * lock is held, signalled when the session ends and given the signals raftctl receives.
 */
import {spawn} from 'node:child_process'
import {constants} from 'node:os'
import type {Session, SessionEnd} from '../client/concurrency/index.js'

/** How a command run under a lock ended. */
export interface ChildEnd {
  /** The exit code to end raftctl with: the command's, or 128 + the signal number if a signal killed it. */
  readonly code: number
  /** The session ended (the lock was lost) while the command ran. */
  readonly lost?: SessionEnd
}

/**
 * Runs `command` with stdin, stdout and stderr inherited and `env` added, and resolves when it
 * exits. SIGINT and SIGTERM received by raftctl meanwhile are passed on to it; when `session`
 * ends first, `onLost` is called at once and the command gets SIGTERM. A command that cannot be
 * started rejects with a one-line error naming it.
 */
export function runHolding(command: readonly string[], env: NodeJS.ProcessEnv, session: Session,
  onLost: (end: SessionEnd) => void): Promise<ChildEnd> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), {stdio: 'inherit', env: {...process.env, ...env}})
    let lost: SessionEnd | undefined
    const forward = (sig: NodeJS.Signals) => (): void => { child.kill(sig) }
    const onInt = forward('SIGINT')
    const onTerm = forward('SIGTERM')
    process.on('SIGINT', onInt)
    process.on('SIGTERM', onTerm)
    const cleanup = (): void => {
      process.removeListener('SIGINT', onInt)
      process.removeListener('SIGTERM', onTerm)
    }
    session.onEnd((end) => {
      if (end.reason === 'closed' || child.exitCode !== null || child.signalCode !== null) return
      lost = end
      onLost(end)
      child.kill('SIGTERM')
    })
    child.on('error', (err: NodeJS.ErrnoException) => {
      cleanup()
      const why = err.code === 'ENOENT' ? 'not found' : err.code === 'EACCES' ? 'permission denied' : err.message
      reject(new Error(`cannot run ${command[0]}: ${why}`))
    })
    child.on('exit', (code, signal) => {
      cleanup()
      const signo = signal === null ? 0 : (constants.signals as Record<string, number>)[signal] ?? 0
      resolve({code: code ?? 128 + signo, ...(lost === undefined ? {} : {lost})})
    })
  })
}

/** Resolves when the session ends for any reason but close(). */
export function sessionLost(session: Session): Promise<SessionEnd> {
  return new Promise((resolve) => session.onEnd((end) => { if (end.reason !== 'closed') resolve(end) }))
}
