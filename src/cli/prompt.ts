/**
 * Confirmation of risky operations. On a terminal the operator is asked (inquirer); `--yes`
 * skips the question; with no terminal and no `--yes` the command fails at once with a message
 * saying to pass --yes, so nothing ever waits on input that cannot come.
 */
import {confirm} from '@inquirer/prompts'
import {CodedError, withCode} from '../raft/errors.js'

/** Raised when a risky operation was not confirmed. */
export class NotConfirmedError extends withCode(CodedError, 'NOT_CONFIRMED') {}

/** True when both stdin and stdout are terminals, so a question can be asked and answered. */
export function isInteractive(): boolean {
  return process.stdin.isTTY === true && process.stdout.isTTY === true
}

/**
 * Asks "question" and resolves when confirmed; throws NotConfirmedError when declined or when no
 * terminal is attached and `yes` is false. `action` names the operation for the error line.
 */
export async function confirmRisky(action: string, question: string, yes: boolean): Promise<void> {
  if (yes) return
  if (!isInteractive()) {
    throw new NotConfirmedError(`${action} needs confirmation and no terminal is attached; pass --yes to proceed`)
  }
  const ok = await confirm({message: question, default: false})
  if (!ok) throw new NotConfirmedError(`${action} cancelled`)
}

/** Asks a yes/no question on a terminal; returns `fallback` when no terminal is attached. */
export async function askYesNo(question: string, fallback: boolean): Promise<boolean> {
  if (!isInteractive()) return fallback
  return confirm({message: question, default: fallback})
}
