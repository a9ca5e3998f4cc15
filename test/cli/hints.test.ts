/**
 * A message's hint is part of the interface: every flag and command that a string in src/ names
 * must exist. Reads every string and template literal of src/ (generated code aside) with the
 * TypeScript parser and checks, against the built CLI's commands (oclif's Config: ours and the
 * plugins' help and autocomplete):
 *
 * - a command named as `raftctl <topic> <command>`, `` `<topic> <command> `` or in parentheses with
 *   its flags (`(member add --learner)`, `(member leave-joint)`) exists, and `raftctl help <topic>
 *   [<command>]` names an existing topic or command;
 * - a `--flag` written after a command name belongs to that command (`member add --learner`);
 * - any other `--flag` is a flag of some command; in the server's messages (src/server, src/kv, ...,
 *   everything below the client) it must be a `server start` setting, since the server cannot know
 *   which command the operator ran: a hint about a client command names the command.
 *
 * (Removal refusals once said "force it (--force)", but `member remove` has no --force.)
 */
import {Config} from '@oclif/core'
import {expect} from 'chai'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'
import ts from 'typescript'
import {ensureBuilt, REPO_ROOT} from '../integration/harness.js'

/** Where an expression of a template literal was: not a word, so it never reads as a command or flag. */
const HOLE = '\u0001'

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) return name === 'generated' ? [] : sourceFiles(p)
    return p.endsWith('.ts') ? [p] : []
  })
}

/** Every string and template literal of a source file, with template expressions as HOLE. */
export function stringLiterals(path: string, text = readFileSync(path, 'utf8')): string[] {
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true)
  const out: string[] = []
  const visit = (n: ts.Node): void => {
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) out.push(n.text)
    else if (ts.isTemplateExpression(n)) out.push(n.head.text + n.templateSpans.map((s) => HOLE + s.literal.text).join(''))
    ts.forEachChild(n, visit)
  }
  visit(sf)
  return out
}

/** The CLI's commands (space-separated ids) with their flags, and its topics. */
interface Cli {
  readonly commands: ReadonlyMap<string, ReadonlySet<string>>
  readonly topics: ReadonlySet<string>
}

/** Prose that reads like `raftctl <topic> <word>` but names no command. */
const PROSE = [/no raftctl server answers/g]

/** The layers whose messages reach the operator through a client command they do not know. */
const SERVER_SIDE = /^src\/(server|kv|storage|transport|raft|raftpb)\//

/**
 * What is wrong with the commands and flags one string names (empty when all exist). With
 * `serverSide`, a flag not written after its command must be a `server start` setting.
 */
export function problems(text: string, cli: Cli, serverSide = false): string[] {
  const out: string[] = []
  const topicAlt = [...cli.topics].filter((t) => t !== 'help').join('|')
  const prose = PROSE.reduce((s, re) => s.replace(re, HOLE), text)
  const named = new RegExp(`(?:\\braftctl |\`)(${topicAlt}) ([a-z][a-z-]*)|\\((${topicAlt}) ([a-z][a-z-]*)(?=\\)| --)`, 'g')
  for (const m of prose.matchAll(named)) {
    const name = `${m[1] ?? m[3]} ${m[2] ?? m[4]}`
    if (!cli.commands.has(name)) out.push(`names the command "${name}", which does not exist`)
  }
  for (const m of text.matchAll(/\braftctl help ((?:[a-z][a-z-]* ?){1,2})/g)) {
    const words = m[1].trim().split(' ')
    if (!cli.topics.has(words[0]) && !cli.commands.has(words[0])) out.push(`raftctl help names "${words[0]}", which is neither a topic nor a command`)
    else if (words.length === 2 && cli.topics.has(words[0]) && !cli.commands.has(words.join(' '))) out.push(`raftctl help names "${words.join(' ')}", which does not exist`)
  }
  // A flag written after a command name (within the same parenthesis or clause) belongs to that command.
  const withCommand = new RegExp(`\\b(${topicAlt}) ([a-z][a-z-]*)((?: [^\\s;,()]+)*)`, 'g')
  const owned = new Set<string>()
  for (const m of text.matchAll(withCommand)) {
    const flags = cli.commands.get(`${m[1]} ${m[2]}`)
    if (flags === undefined) continue
    for (const f of m[3].matchAll(/ --([a-z][a-z0-9-]*)/g)) {
      owned.add(`${m.index}:${f[1]}`)
      if (!flags.has(f[1])) out.push(`names --${f[1]} of "${m[1]} ${m[2]}", which has no such flag`)
    }
  }
  const anyFlag = new Set([...cli.commands.values()].flatMap((f) => [...f]))
  const serverFlags = cli.commands.get('server start') ?? new Set()
  for (const f of text.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)) {
    if (!anyFlag.has(f[1])) out.push(`names --${f[1]}, which no command has`)
    else if (serverSide && !serverFlags.has(f[1]) && ![...owned].some((o) => o.endsWith(`:${f[1]}`))) {
      out.push(`names --${f[1]} without the command it belongs to (the server cannot know which command was run)`)
    }
  }
  return [...new Set(out)]
}

describe('every command and flag that a message in src/ names exists', function () {
  this.timeout(60_000)
  let cli: Cli

  before(async () => {
    ensureBuilt()
    const config = await Config.load(REPO_ROOT)
    cli = {
      commands: new Map(config.commands.map((c) => [c.id.replaceAll(':', ' '), new Set([...Object.keys(c.flags), 'help'])])),
      topics: new Set(config.topics.map((t) => t.name)),
    }
  })

  it('finds wrong hints (the checker itself)', () => {
    expect(problems('removing voter 3 would leave 1 voters; add the node as a learner first, or force it (--force)', cli, true))
      .to.deep.equal(['names --force without the command it belongs to (the server cannot know which command was run)'])
    expect(problems('or force it (member change --remove 3 --force)', cli, true)).to.deep.equal([])
    expect(problems('the cluster already has 1 learner(s) and --max-learners is 1', cli, true)).to.deep.equal([])
    expect(problems('removing voter 3 is refused; force it (member remove --force)', cli))
      .to.deep.equal(['names --force of "member remove", which has no such flag'])
    expect(problems('see raftctl member frobnicate', cli)).to.deep.equal(['names the command "member frobnicate", which does not exist'])
    expect(problems('pass --yess to proceed', cli)).to.deep.equal(['names --yess, which no command has'])
    expect(problems('see raftctl help kv gett', cli)).to.deep.equal(['raftctl help names "kv gett", which does not exist'])
    expect(problems(`leave it with: ${HOLE} member leave-joint; or (member add --learner)`, cli)).to.deep.equal([])
    expect(problems('node 4 is not a member of the cluster', cli)).to.deep.equal([])
  })

  it('holds for every string and template literal in src/', () => {
    const files = sourceFiles(join(REPO_ROOT, 'src'))
    expect(files.length).to.be.greaterThan(50)
    const found = files.flatMap((f) => {
      const path = relative(REPO_ROOT, f)
      return stringLiterals(f).flatMap((s) => problems(s, cli, SERVER_SIDE.test(path)).map((p) => `${path}: ${JSON.stringify(s)} ${p}`))
    })
    expect(found).to.deep.equal([])
  })

  it('reads template literals with their holes (so `--${name}` is not a flag)', () => {
    // eslint-disable-next-line no-template-curly-in-string
    expect(stringLiterals('x.ts', 'const a = `--${name} and ${x} member add --learner`; const b = \'(--yes)\'')).to.deep.equal([
      `--${HOLE} and ${HOLE} member add --learner`, '(--yes)',
    ])
  })
})
