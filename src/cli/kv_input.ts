/**
 * Where `raftctl kv put` takes the value from: the argument, a file (--file), or standard input
 * ("-", or no value argument while stdin is piped). A terminal on stdin is never read: the
 * command would wait for input the operator does not know is expected. Without a value argument
 * /dev/null on stdin is not read either (see isCharacterDevice); `-` reads it as an empty value.
 */
import {fstatSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {CodedError, withCode} from '../raft/errors.js'

/** Raised when the value cannot be obtained; the message says what to give instead. */
export class ValueInputError extends withCode(CodedError, 'BAD_VALUE_INPUT') {}

/**
 * True when stdin is a character device that is not a terminal, i.e. /dev/null (a script run
 * from cron or with `< /dev/null`): nothing was piped, so an omitted value is a mistake, not an
 * empty value. Pipes, files and sockets are read.
 */
function isCharacterDevice(stdin: NodeJS.ReadStream): boolean {
  const fd = (stdin as {fd?: unknown}).fd
  if (typeof fd !== 'number') return false
  try {
    return fstatSync(fd).isCharacterDevice()
  } catch {
    return false
  }
}

/** Reads all of a stream into one buffer. */
async function readAll(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const parts: Buffer[] = []
  for await (const chunk of stream) parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  return Buffer.concat(parts)
}

/**
 * Resolves the value of a put. `arg` is the value argument (undefined when omitted), `file` the
 * --file flag. Exactly one source may be used.
 */
export async function resolvePutValue(arg: string | undefined, file: string | undefined,
  stdin: NodeJS.ReadStream = process.stdin): Promise<Uint8Array> {
  if (file !== undefined) {
    if (arg !== undefined) throw new ValueInputError('give the value either as an argument or with --file, not both')
    try {
      return await readFile(file)
    } catch (err) {
      const code = (err as {code?: string}).code
      throw new ValueInputError(code === 'ENOENT' ? `--file ${file} does not exist` : `cannot read --file ${file}: ${(err as Error).message}`)
    }
  }
  if (arg !== undefined && arg !== '-') return new TextEncoder().encode(arg)
  if (stdin.isTTY === true || (arg === undefined && isCharacterDevice(stdin))) {
    throw new ValueInputError(arg === '-'
      ? 'the value "-" means standard input, but stdin is a terminal; pipe the value in or give it as an argument'
      : 'no value given; pass it as an argument, with --file, or pipe it to standard input')
  }
  return readAll(stdin)
}
