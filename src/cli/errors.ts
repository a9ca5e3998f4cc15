/**
 * Maps any error a command can meet (flag parsing, gRPC status, client errors) to one line that
 * names what was wrong and, where it helps, what to do.
 */
import type {Command} from '@oclif/core'

/** What oclif and our own errors may carry about how the process should end. */
export type CommandFailure = Error & {exitCode?: number; oclif?: {exit?: number}}

/**
 * Ends a command that failed: one line naming what was wrong on stderr (or a JSON error object
 * with --json, written by `logJson`, the command's own protected logJson) and exit code 1, or the error's own. oclif's exit(0) passes through untouched.
 */
export function failCommand(cmd: Command, err: CommandFailure, logJson: (json: unknown) => void): void {
  if (err.oclif?.exit === 0) return
  const exitCode = err.oclif?.exit ?? err.exitCode ?? 1
  const line = describeError(err)
  if (cmd.jsonEnabled()) logJson({error: {message: line, code: errorCode(err)}})
  else process.stderr.write(`Error: ${line}\n`)
  cmd.exit(exitCode)
}

/**
 * Returns one line describing `err`: the usual file-system failures in words, oclif's flag and
 * argument errors with their reason, a gRPC error's details, else the first line of the message.
 */
export function describeError(err: unknown): string {
  const fsLine = describeFileSystemError(err)
  if (fsLine !== undefined) return fsLine
  if (err instanceof Error && (err as {oclif?: unknown}).oclif !== undefined) return describeParseError(err.message)
  const wrongServer = describeWrongServer(err)
  if (wrongServer !== undefined) return wrongServer
  if (err instanceof Error) {
    const details = (err as {details?: unknown}).details
    const text = typeof details === 'string' && details !== '' ? details : err.message
    return firstLine(text)
  }
  return firstLine(String(err))
}

/**
 * A client error with status UNIMPLEMENTED from a known endpoint: something answers there, but
 * not raftctl's client API — most often a node's peer address given as --endpoints (it serves
 * only the Raft transport), or another HTTP server. Said in words, with what to give instead.
 */
function describeWrongServer(err: unknown): string | undefined {
  const e = err as {codeName?: unknown, endpoint?: unknown, message?: unknown}
  if (e.codeName !== 'UNIMPLEMENTED' || typeof e.endpoint !== 'string' || e.endpoint === '') return undefined
  return `${e.endpoint} does not serve the raftctl client API (${firstLine(String(e.message))}); ` +
    `is it a peer address? --endpoints takes the nodes' client addresses (their --listen-client)`
}

/** The usual file-system failures (they carry `code` and `path`) said in words; else undefined. */
function describeFileSystemError(err: unknown): string | undefined {
  const e = err as {code?: unknown, path?: unknown}
  if (typeof e.path !== 'string') return undefined
  if (e.code === 'ENOENT') return `${e.path} does not exist`
  if (e.code === 'EACCES' || e.code === 'EPERM') return `permission denied: ${e.path}`
  if (e.code === 'EISDIR') return `${e.path} is a directory, not a file`
  return undefined
}

/**
 * oclif's flag and argument errors put a heading on the first line ("The following error
 * occurred:", "Parsing --keys") and the actual problem on the next; both are kept in one line.
 */
export function describeParseError(message: string): string {
  const lines = message.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^See more help with/.test(l))
  if (lines.length < 2) return firstLine(message)
  if (/^The following errors? occurred:?$/.test(lines[0])) return lines.slice(1).join('; ')
  if (/^Parsing --/.test(lines[0])) return `${lines[0]}: ${lines[1]}`
  if (lines[0].endsWith(':')) return `${lines[0]} ${lines[1].replace(/\s{2,}/g, ' (').replace(/^(.*\(.*)$/, '$1)')}`
  return lines[0]
}

function firstLine(text: string): string {
  const line = text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? 'unknown error'
  return line.replace(/^Error: /, '')
}

/**
 * A stable code for --json errors: the gRPC status name of a client error (e.g. "NOT_FOUND"),
 * else the error's own string code (e.g. "NOT_CONFIRMED"), else "ERROR".
 */
export function errorCode(err: unknown): string {
  const e = err as {codeName?: unknown, code?: unknown}
  if (typeof e.codeName === 'string') return e.codeName
  if (typeof e.code === 'string' && e.code !== '') return e.code
  return 'ERROR'
}
