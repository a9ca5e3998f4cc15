/**
 * A golden-file ("datadriven") test runner in the style of cockroachdb/datadriven, used by
 * etcd-io/raft. A file holds test cases separated by blank lines:
 *
 *     # a comment
 *     cmd arg key=val key=(v1,v2)
 *     input line(s)
 *     ----
 *     expected output
 *
 * Expected output that contains blank lines uses the double-separator form:
 *
 *     cmd
 *     ----
 *     ----
 *     output with
 *
 *     a blank line
 *     ----
 *     ----
 *
 * The handler's output is compared with the expected output exactly (a missing final newline is
 * added to non-empty output). With the environment variable REWRITE=1 the file is rewritten
 * with the actual outputs instead of being checked.
 */
import {readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {basename, join} from 'node:path'
import {expect} from 'chai'

/** One argument of a command line: "k=(1,2)" → {key:'k', vals:['1','2']}, "k" → {key:'k', vals:[]}. */
export interface CmdArg {
  key: string
  vals: string[]
}

/** One test case of a file. */
export interface TestData {
  /** "file:line" of the command line, for messages. */
  pos: string
  cmd: string
  args: CmdArg[]
  /** The lines between the command line and "----", joined with "\n" (no final newline). */
  input: string
  /** The expected output, ending with "\n" unless empty. */
  expected: string
}

/** Produces the actual output of a test case. */
export type Handler = (td: TestData) => string

/** A parsed file: the test cases and, for rewriting, the text around them. */
export interface ParsedFile {
  cases: ParsedCase[]
  /** Text (comments, blank lines) that precedes each case; trailer[cases.length] ends the file. */
  between: string[]
}

/** A test case together with its original header text (command line and input). */
export interface ParsedCase {
  td: TestData
  header: string
}

const SEP = '----'

/** Parses the text of a golden file; `name` is used in positions and error messages. */
export function parseDataDriven(text: string, name: string): ParsedFile {
  const lines = text.split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  const cases: ParsedCase[] = []
  const between: string[] = []
  let pending = ''
  let i = 0
  while (i < lines.length) {
    const line = lines[i]
    if (line.trim() === '' || line.trimStart().startsWith('#')) {
      pending += line + '\n'
      i++
      continue
    }
    const parsed = parseCase(lines, i, name)
    between.push(pending)
    pending = ''
    cases.push(parsed.c)
    i = parsed.next
  }
  between.push(pending)
  return {cases, between}
}

/** Parses one case starting at lines[start] (its command line). */
function parseCase(lines: string[], start: number, name: string): {c: ParsedCase; next: number} {
  const pos = `${name}:${start + 1}`
  let i = start
  let cmdLine = ''
  while (lines[i].endsWith('\\')) cmdLine += lines[i++].slice(0, -1) + ' '
  cmdLine += lines[i++]
  const input: string[] = []
  while (i < lines.length && lines[i] !== SEP) input.push(lines[i++])
  if (i >= lines.length) throw new Error(`${pos}: test case is missing its "${SEP}" separator`)
  i++
  const header = lines.slice(start, i).join('\n') + '\n'
  const {cmd, args} = parseCommandLine(cmdLine, pos)
  const out: string[] = []
  if (lines[i] === SEP) {
    i++
    while (i < lines.length && !(lines[i] === SEP && lines[i + 1] === SEP)) out.push(lines[i++])
    if (i >= lines.length) throw new Error(`${pos}: expected output is missing its closing "${SEP}\\n${SEP}"`)
    i += 2
    if (i < lines.length && lines[i].trim() !== '') throw new Error(`${pos}: expected a blank line after the closing "${SEP}\\n${SEP}"`)
  } else {
    while (i < lines.length && lines[i].trim() !== '') out.push(lines[i++])
  }
  const expected = out.length === 0 ? '' : out.join('\n') + '\n'
  return {c: {td: {pos, cmd, args, input: input.join('\n'), expected}, header}, next: i}
}

/**
 * Splits a command line into the command and its arguments. Arguments are separated by spaces;
 * a value list in parentheses may contain commas and spaces: "k=(1, 2)". Throws on an
 * unbalanced parenthesis.
 */
export function parseCommandLine(line: string, pos = '<line>'): {cmd: string; args: CmdArg[]} {
  const tokens: string[] = []
  let cur = ''
  let depth = 0
  for (const ch of line.trim()) {
    if (ch === '(') depth++
    if (ch === ')' && --depth < 0) throw new Error(`${pos}: unbalanced ")" in "${line}"`)
    if (/\s/.test(ch) && depth === 0) {
      if (cur !== '') tokens.push(cur)
      cur = ''
    } else {
      cur += ch
    }
  }
  if (depth !== 0) throw new Error(`${pos}: unbalanced "(" in "${line}"`)
  if (cur !== '') tokens.push(cur)
  if (tokens.length === 0) throw new Error(`${pos}: empty command line`)
  return {cmd: tokens[0], args: tokens.slice(1).map((t) => parseArg(t, pos))}
}

/** Parses "key", "key=val" or "key=(v1,v2,...)". */
function parseArg(tok: string, pos: string): CmdArg {
  const eq = tok.indexOf('=')
  if (eq < 0) return {key: tok, vals: []}
  const key = tok.slice(0, eq)
  const val = tok.slice(eq + 1)
  if (key === '') throw new Error(`${pos}: argument "${tok}" has no key`)
  if (!val.startsWith('(')) return {key, vals: [val]}
  if (!val.endsWith(')')) throw new Error(`${pos}: argument "${tok}" must end with ")"`)
  const inner = val.slice(1, -1).trim()
  return {key, vals: inner === '' ? [] : inner.split(',').map((v) => v.trim())}
}

/** Returns the argument `key` of a test case, or undefined. */
export function findArg(td: TestData, key: string): CmdArg | undefined {
  return td.args.find((a) => a.key === key)
}

/** Formats one case's output block (after the header), choosing the double-separator form when needed. */
function formatOutput(output: string): string {
  if (output === '') return ''
  const body = output.endsWith('\n') ? output : output + '\n'
  const needsDouble = body.split('\n').slice(0, -1).some((l) => l.trim() === '')
  return needsDouble ? `${SEP}\n${body}${SEP}\n${SEP}\n` : body
}

/** Normalizes a handler's output the way expected output is stored: a final newline if non-empty. */
function normalizeOutput(output: string): string {
  return output === '' || output.endsWith('\n') ? output : output + '\n'
}

/**
 * Runs every case of `text` through `handler`. Returns the rewritten file text; when `check`
 * is true, asserts (chai) that each output equals the expected output and stops at the first
 * mismatch.
 */
export function runDataDrivenText(text: string, name: string, handler: Handler, check: boolean): string {
  const parsed = parseDataDriven(text, name)
  let out = ''
  parsed.cases.forEach((c, i) => {
    const actual = normalizeOutput(handler(c.td))
    if (check) {
      expect(actual).to.equal(c.td.expected, `${c.td.pos}: output of "${c.header.split('\n')[0]}" differs from the expected output`)
    }
    out += parsed.between[i] + c.header + formatOutput(actual)
  })
  return out + parsed.between[parsed.cases.length]
}

/** Whether golden files are rewritten instead of checked (REWRITE=1). */
export function rewriteMode(): boolean {
  return process.env.REWRITE === '1' || process.env.REWRITE === 'true'
}

/**
 * Runs the golden file at `path` through `handler` and asserts every output; with REWRITE=1
 * writes the actual outputs back to the file instead.
 */
export function runDataDriven(path: string, handler: Handler): void {
  const text = readFileSync(path, 'utf8')
  const rewrite = rewriteMode()
  const out = runDataDrivenText(text, path, handler, !rewrite)
  if (rewrite && out !== text) writeFileSync(path, out)
}

/**
 * Declares one mocha `it` per "*.txt" file of `dir` (call inside `describe`). The same handler
 * serves every file; use runDataDrivenFiles to give each file fresh state.
 */
export function runDataDrivenDir(dir: string, handler: Handler): void {
  runDataDrivenFiles(dir, () => handler)
}

/** Like runDataDrivenDir, but calls `makeHandler` once per file so each file starts afresh. */
export function runDataDrivenFiles(dir: string, makeHandler: (path: string) => Handler): void {
  const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()
  if (files.length === 0) throw new Error(`no golden files (*.txt) in ${dir}`)
  for (const f of files) {
    const path = join(dir, f)
    it(basename(f, '.txt'), () => runDataDriven(path, makeHandler(path)))
  }
}
