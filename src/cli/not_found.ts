/**
 * The oclif `command_not_found` hook: an unknown command is named as the operator typed it
 * (`kv gett`, not oclif's internal id `kv:gett`) in one error line with exit code 2, with the
 * closest command suggested when one is close enough ("did you mean `kv get`?") and otherwise the
 * help command that lists the commands.
 */
import type {Hook} from '@oclif/core'
import {commandLine} from './invocation.js'

/** Levenshtein distance between two strings (insert, delete, substitute: 1 each). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[b.length]
}

/**
 * The command the operator meant to type: among `commands` (space-separated names), the one
 * closest to as many of the typed `words` as it has words, if it is within a third of its
 * length (at least 1, at most 3 edits).
 */
export function closestCommand(words: readonly string[], commands: readonly string[]): string | undefined {
  let best: {name: string, d: number} | undefined
  for (const name of commands) {
    const typed = words.slice(0, name.split(' ').length).join(' ')
    const d = editDistance(typed, name)
    const allowed = Math.min(3, Math.max(1, Math.floor(name.length / 3)))
    if (d <= allowed && (best === undefined || d < best.d)) best = {name, d}
  }
  return best?.name
}

/**
 * The one line for an unknown command; a mistyped topic alone (`kvv`) is matched to the topic.
 * `id` is oclif's id (words joined by ":"; it may include arguments that followed, e.g.
 * `kv:gett:mykey`), `topics` the command topics (kv, member, ...), `line` how a command line of
 * this CLI is written (src/cli/invocation.ts).
 */
export function notFoundMessage(bin: string, id: string, commands: readonly string[], topics: readonly string[],
  line: (args: string[]) => string = (args) => [bin, ...args].join(' ')): string {
  const words = id.split(':').filter((w) => w !== '')
  const topic = topics.includes(words[0]) ? words[0] : undefined
  const typed = words.slice(0, topic === undefined ? 1 : 2).join(' ')
  const guess = closestCommand(words, commands) ?? (topic === undefined ? closestCommand(words, topics) : undefined)
  const help = line(topic === undefined ? ['help'] : ['help', topic])
  const hint = guess === undefined ? `see \`${help}\` for the commands` : `did you mean \`${guess}\`? (\`${help}\` lists the commands)`
  return `${typed} is not a ${bin} command; ${hint}`
}

const hook: Hook<'command_not_found'> = async function (opts) {
  const commands = opts.config.commands.filter((c) => !c.hidden).map((c) => c.id.replaceAll(':', ' '))
  const topics = opts.config.topics.map((t) => t.name)
  const line = (args: string[]): string => commandLine(opts.config, args)
  process.stderr.write(`Error: ${notFoundMessage(opts.config.bin, opts.id, commands, topics, line)}\n`)
  this.exit(2)
}

export default hook
