/**
 * Reads the README quick start as a script: the `sh` code blocks between the
 * `<!-- quickstart ... -->` and `<!-- quickstart end -->` markers, grouped by `###` section, each
 * with the prose that follows it (where the README states what a command prints). Also rewrites
 * the README's fixed 127.0.0.1 ports to free ports through one mapping, so the commands run
 * unchanged in shape but cannot collide with anything else on the machine.
 */

/** One fenced `sh` block: its commands (continuations joined, comments dropped) and the prose after it. */
export interface ReadmeBlock {
  readonly commands: readonly string[]
  readonly proseAfter: string
}

export interface ReadmeSection {
  readonly title: string
  readonly prose: string
  readonly blocks: readonly ReadmeBlock[]
}

export interface Quickstart {
  readonly sections: readonly ReadmeSection[]
  /** Shell blocks (sh, bash, shell, console) outside the quick start; the test requires none. */
  readonly shellBlocksOutside: number
}

const SHELL_LANGS = new Set(['sh', 'bash', 'shell', 'console', 'sh-session', 'zsh'])
const BEGIN = /^<!-- quickstart(?!\s+end)\b.*-->\s*$/
const END = /^<!-- quickstart end -->\s*$/

/** Splits a block's text into commands: drops blank and `#` lines, joins `\` continuations. */
export function blockCommands(text: string): string[] {
  const out: string[] = []
  let pending = ''
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (pending === '' && (line === '' || line.startsWith('#'))) continue
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1).trim() + ' '
      continue
    }
    out.push((pending + line).trim())
    pending = ''
  }
  if (pending.trim() !== '') throw new Error(`README block ends in a line continuation: ${pending.trim()}`)
  return out
}

/** Parses the quick start out of the README text (see the module comment). */
export function parseQuickstart(markdown: string): Quickstart {
  const lines = markdown.split('\n')
  const sections: Array<{title: string, prose: string[], blocks: Array<{commands: string[], proseAfter: string[]}>}> = []
  let inside = false
  let seenBegin = false
  let seenEnd = false
  let fence: {lang: string, body: string[]} | undefined
  let shellBlocksOutside = 0
  for (const line of lines) {
    if (fence !== undefined) {
      if (/^```\s*$/.test(line)) {
        if (SHELL_LANGS.has(fence.lang)) {
          if (!inside) shellBlocksOutside++
          else {
            if (sections.length === 0) throw new Error('README quick start has a shell block before its first ### section')
            sections.at(-1)!.blocks.push({commands: blockCommands(fence.body.join('\n')), proseAfter: []})
          }
        }
        fence = undefined
      } else {
        fence.body.push(line)
      }
      continue
    }
    const open = /^```(\S*)\s*$/.exec(line)
    if (open !== null) {
      fence = {lang: open[1], body: []}
      continue
    }
    if (BEGIN.test(line)) {
      if (seenBegin) throw new Error('README has two quickstart begin markers')
      inside = seenBegin = true
      continue
    }
    if (END.test(line)) {
      if (!inside) throw new Error('README has a quickstart end marker without a begin marker')
      inside = false
      seenEnd = true
      continue
    }
    if (!inside) continue
    const heading = /^###\s+(.*)$/.exec(line)
    if (heading !== null) {
      sections.push({title: heading[1].trim(), prose: [], blocks: []})
      continue
    }
    const s = sections.at(-1)
    if (s === undefined) continue
    s.prose.push(line)
    s.blocks.at(-1)?.proseAfter.push(line)
  }
  if (fence !== undefined) throw new Error('README has an unterminated code block')
  if (!seenBegin || !seenEnd) throw new Error('README has no <!-- quickstart ... --> ... <!-- quickstart end --> section')
  return {
    sections: sections.map((s) => ({
      title: s.title,
      prose: s.prose.join('\n'),
      blocks: s.blocks.map((b) => ({commands: b.commands, proseAfter: b.proseAfter.join('\n')})),
    })),
    shellBlocksOutside,
  }
}

/** Splits a command line into words (plain words, '...' and "..." quoting; no expansions). */
export function shellWords(line: string): string[] {
  const words: string[] = []
  const re = /\s*(?:'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+))/g
  let m: RegExpExecArray | null
  while ((m = re.exec(line)) !== null) {
    if (m[0].trim() === '') break
    words.push(m[1] ?? (m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]))
  }
  return words
}

/**
 * A claim in the prose after a block: a sentence that starts with a backticked command
 * fragment (e.g. `kv get`) and says it prints/shows something; every other backticked fragment
 * of that sentence must appear in the output of that command (its last run in the block).
 */
export interface OutputClaim {
  readonly command: string
  readonly expected: readonly string[]
  readonly sentence: string
}

export function outputClaims(prose: string): OutputClaim[] {
  const claims: OutputClaim[] = []
  const text = prose.replace(/\s+/g, ' ')
  for (const sentence of text.split(/(?<=[.;])\s+/)) {
    const m = /^`([^`]+)`\s+(?:now\s+)?(?:prints|shows)\b/.exec(sentence.trim())
    if (m === null) continue
    const expected = [...sentence.matchAll(/`([^`]+)`/g)].map((x) => x[1]).slice(1)
    if (expected.length > 0) claims.push({command: m[1], expected, sentence: sentence.trim()})
  }
  return claims
}

/** The 127.0.0.1 ports a text mentions. */
export function portsIn(text: string): number[] {
  return [...text.matchAll(/\b127\.0\.0\.1:(\d{1,5})\b/g)].map((m) => Number(m[1]))
}

/** Rewrites every 127.0.0.1:<port> of `text` through `map` (a port missing from it is an error). */
export function mapPorts(text: string, map: ReadonlyMap<number, number>): string {
  return text.replace(/\b127\.0\.0\.1:(\d{1,5})\b/g, (_, p: string) => {
    const to = map.get(Number(p))
    if (to === undefined) throw new Error(`no free port was reserved for README port ${p}`)
    return `127.0.0.1:${to}`
  })
}

/** Rewrites mapped ports back to the README's, so printed lines can be compared with the README. */
export function unmapPorts(text: string, map: ReadonlyMap<number, number>): string {
  const back = new Map([...map].map(([from, to]) => [to, from]))
  return text.replace(/\b127\.0\.0\.1:(\d{1,5})\b/g, (all, p: string) => {
    const from = back.get(Number(p))
    return from === undefined ? all : `127.0.0.1:${from}`
  })
}

/** The value of `--flag value` or `--flag=value` in a word list, or undefined. */
export function flagValue(words: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < words.length; i++) {
    if (words[i] === flag) return words[i + 1]
    if (words[i].startsWith(`${flag}=`)) return words[i].slice(flag.length + 1)
  }
  return undefined
}
