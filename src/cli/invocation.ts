/**
 * Command lines the CLI prints for the operator to run (the start line of a new member, "promote
 * it with: ..."), built so that each runs exactly as printed: real values only, every argument
 * quoted for a POSIX shell when needed, and the CLI named the way the operator ran it:
 *
 * - `npx raftctl ...` when run through npx / npm exec (as the README does): npm sets
 *   npm_lifecycle_event=npx and npm_lifecycle_script to the command it runs, which must be ours,
 *   so a raftctl started by some other npx command (e.g. `npx mocha`) is not mistaken for it;
 * - the path of bin/dev.js when run from the sources (`bin/dev.js ...`), relative to the working
 *   directory when it is below it, else absolute;
 * - `raftctl ...` otherwise (installed on PATH).
 */
import {basename, dirname, isAbsolute, relative} from 'node:path'

/** The process facts the choice depends on (the real ones by default; tests pass their own). */
export interface InvocationFacts {
  readonly env: NodeJS.ProcessEnv
  /** The script node runs (process.argv[1]). */
  readonly script: string | undefined
  readonly cwd: string
}

const currentFacts = (): InvocationFacts => ({env: process.env, script: process.argv[1], cwd: process.cwd()})

/** The first word of a shell command as npm records it (it may quote it: `'raftctl' ...`). */
function firstWord(command: string | undefined): string | undefined {
  const m = /^\s*(?:'([^']*)'|"([^"]*)"|(\S+))/.exec(command ?? '')
  return m === null ? undefined : (m[1] ?? m[2] ?? m[3])
}

/** The words that run this CLI the way it was run now (see the module comment); `bin` is its name. */
export function invocationWords(bin: string, facts: InvocationFacts = currentFacts()): string[] {
  if (facts.env.npm_lifecycle_event === 'npx' && firstWord(facts.env.npm_lifecycle_script) === bin) return ['npx', bin]
  const script = facts.script
  if (script !== undefined && basename(script) === 'dev.js' && basename(dirname(script)) === 'bin') {
    const rel = relative(facts.cwd, script)
    if (rel.startsWith('..') || isAbsolute(rel)) return [script]
    return [rel.includes('/') ? rel : `./${rel}`]
  }
  return [bin]
}

/** Quotes an argument for a POSIX shell when it contains anything but safe characters. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(arg) ? arg : `'${arg.replaceAll('\'', '\'\\\'\'')}'`
}

/** One shell line that runs this CLI with `args` (e.g. ['member', 'promote', '4']). */
export function commandLine(config: {readonly bin: string}, args: readonly string[], facts?: InvocationFacts): string {
  return [...invocationWords(config.bin, facts), ...args].map(shellQuote).join(' ')
}
