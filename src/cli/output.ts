/**
 * The one output model of raftctl's read commands, etcdctl's: `-w/--write-out` chooses
 *
 * - simple: plain lines for scripts. Keys and values are written as their exact bytes (a key
 *   line, then a value line), straight to stdout as a Buffer, never through console.log's string
 *   conversion; `--hex` writes them as \xNN escapes instead;
 * - json: etcdctl's JSON: snake_case field names, zero values left out, keys and values
 *   base64-encoded (for commands whose answer is not an etcd response it is the --json object);
 * - table: tables and sentences for people (src/cli/table.ts keeps every cell printable and short);
 * - fields: one `"Name" : value` line per field, strings quoted with escapes, as etcdctl prints.
 *
 * The default is table when stdout is a terminal and simple otherwise (a pipe or a file).
 * `--json` keeps printing the command's own result object (what `run()` returns), as before;
 * it cannot be combined with an explicit -w. Only the chosen format is built: a command never
 * renders a table it does not print.
 */
import {fstatSync, writeSync} from 'node:fs'
import {isatty} from 'node:tty'
import {Flags} from '@oclif/core'
import {UsageError} from './member_args.js'
import {hexEscaped, printable} from './printable.js'

export const WRITE_OUT = ['simple', 'json', 'table', 'fields'] as const
export type WriteOut = (typeof WRITE_OUT)[number]

/** The --write-out flag of every read command (also RAFTCTL_WRITE_OUT, as etcdctl's ETCDCTL_WRITE_OUT). */
export const writeOutFlag = {
  'write-out': Flags.option({
    char: 'w', options: WRITE_OUT, env: 'RAFTCTL_WRITE_OUT', helpGroup: 'OUTPUT',
    summary: 'Output format: simple (lines, exact bytes), json (as etcdctl, bytes base64), table or fields; default table on a terminal, else simple.',
  })(),
}

/** --hex, for the commands that print keys and values. */
export const hexFlag = {
  hex: Flags.boolean({summary: 'Print keys and values as \\xNN escapes of their bytes (simple, table and fields output).', helpGroup: 'OUTPUT'}),
}

/** A piece of output: text (written as UTF-8) or bytes (written as they are). */
export type Chunk = string | Uint8Array

/** The value of one line of the fields format. */
export type FieldValue = string | number | bigint | boolean | Uint8Array | {readonly bytes: Uint8Array, readonly hex: boolean} |
  ReadonlyArray<string | number> | RawValue
/** A value printed as it is, unquoted (etcdctl prints Go values such as durations and slices so). */
export interface RawValue {
  readonly raw: string
}
export type Field = readonly [name: string, value: FieldValue]

/** The empty line etcdctl prints after each endpoint's fields. */
export const BLANK_FIELD: Field = ['', {raw: ''}]

/** How a command renders its data in each format; only the chosen renderer is called. */
export interface View<D> {
  simple(d: D): Chunk[]
  table(d: D): string
  fields(d: D): Field[]
  json(d: D): unknown
}

/** What decides the format: the -w value (flag or environment), whether it was on the command line, --json, a terminal. */
export interface FormatChoice {
  readonly writeOut: WriteOut | undefined
  /** True when -w/--write-out was given on the command line (not only through RAFTCTL_WRITE_OUT). */
  readonly explicit: boolean
  readonly json: boolean
  readonly tty: boolean
  /** The format when -w is not given, instead of table/simple by terminal (e.g. simple for --print-value-only). */
  readonly fallback?: WriteOut
}

/**
 * The format to print in, or 'result' for --json (oclif prints the returned object). An explicit
 * -w with --json is refused; RAFTCTL_WRITE_OUT gives way to --json.
 */
export function chooseFormat(c: FormatChoice): WriteOut | 'result' {
  if (c.json) {
    if (c.explicit && c.writeOut !== undefined) {
      throw new UsageError('--json and --write-out cannot be combined; --json prints raftctl\'s result object, --write-out json prints etcdctl\'s JSON')
    }
    return 'result'
  }
  return c.writeOut ?? c.fallback ?? (c.tty ? 'table' : 'simple')
}

/**
 * True when stdout is a file or a device other than a terminal (`> file`, `> /dev/null`): there a
 * write blocks and can fail (a full disk), so it is written synchronously and a failure becomes
 * the command's one error line instead of an unhandled stream error.
 */
function stdoutIsFile(): boolean {
  try {
    const st = fstatSync(1)
    return st.isFile() || (st.isCharacterDevice() && !isatty(1))
  } catch {
    return false
  }
}

/** Writes output to stdout, bytes untouched (pipes and terminals through process.stdout). */
export function writeRaw(chunks: readonly Chunk[]): void {
  const buf = Buffer.concat(chunks.map((c) => typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.from(c.buffer, c.byteOffset, c.byteLength)))
  if (buf.length === 0) return
  if (!stdoutIsFile()) {
    process.stdout.write(buf)
    return
  }
  try {
    for (let off = 0; off < buf.length;) off += writeSync(1, buf, off)
  } catch (err) {
    throw new Error(`cannot write the output to standard output: ${(err as Error).message}`)
  }
}

/** Prints `d` in `format` through `view`, building only that format; `write` is writeRaw (tests collect instead). */
export function emit<D>(format: WriteOut, view: View<D>, d: D, write: (chunks: readonly Chunk[]) => void = writeRaw): void {
  switch (format) {
    case 'simple': return write(view.simple(d))
    case 'table': return write([view.table(d), '\n'])
    case 'fields': return write(view.fields(d).map(fieldLine))
    case 'json': return write([JSON.stringify(view.json(d)), '\n'])
  }
}

/** One line of the fields format: `"Name" : value`, strings quoted with escapes. */
export function fieldLine([name, value]: Field): string {
  if (name === '') return '\n'
  return `"${name}" : ${fieldText(value)}\n`
}

function fieldText(v: FieldValue): string {
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v)
  if (typeof v === 'string' || v instanceof Uint8Array) return `"${printable(v, {quote: true}).text}"`
  if (typeof v === 'object' && v !== null && 'raw' in v) return v.raw
  if (Array.isArray(v)) return `[${v.map((x) => typeof x === 'number' ? String(x) : `"${printable(x, {quote: true}).text}"`).join(' ')}]`
  const b = v as {bytes: Uint8Array, hex: boolean}
  return `"${b.hex ? hexEscaped(b.bytes).text : printable(b.bytes, {quote: true}).text}"`
}

/** A camelCase field name in snake_case (clusterId → cluster_id); Go-style names (Response, Header) stay. */
const snake = (name: string): string => /^[a-z]/.test(name) ? name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) : name

/**
 * A response object as etcdctl prints it in JSON: field names in snake_case (the proto names),
 * bytes base64, and fields holding a zero value (0, false, "", empty bytes or list, unset) left
 * out, as Go's omitempty does. A message that is set but empty stays as {}. 64-bit ids (bigint in
 * etcd's messages) become JSON numbers as etcdctl prints them; raftctl's cluster and member ids
 * are below 2^53, so none loses a digit.
 */
export function etcdJson(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v)
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')
  if (typeof v === 'bigint') return Number(v)
  if (typeof v === 'object' && v !== null && 'raw' in v) return v.raw
  if (Array.isArray(v)) return v.map(etcdJson)
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) {
      if (isZero(x)) continue
      out[snake(k)] = etcdJson(x)
    }
    return out
  }
  return v
}

function isZero(x: unknown): boolean {
  return x === undefined || x === null || x === 0 || x === 0n || x === false || x === '' ||
    (Array.isArray(x) && x.length === 0) || (x instanceof Uint8Array && x.length === 0)
}
