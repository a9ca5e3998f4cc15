/**
 * The CLI documents itself: every raftctl command (listed from the built CLI through oclif's
 * Config, as `raftctl help` sees it) has a summary or description, flag help and at least one
 * example that runs that very command; `raftctl help <command>` works for each; every command the
 * README and docs/operations.md mention exists; and shell completion works — `raftctl
 * autocomplete bash` prints setup instructions, and the bash completion function it generates
 * completes raftctl's topics, commands and flags.
 */
import {type Command, Config} from '@oclif/core'
import {expect} from 'chai'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {ensureBuilt, REPO_ROOT, stopAll, tempDir} from '../integration/harness.js'
import {type RunResult, runProcess} from '../harness/process.js'

const RUN_BIN = join(REPO_ROOT, 'bin', 'run.js')

/** Runs a command to completion without a terminal; killed by pid after timeoutMs. */
function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<RunResult> {
  return runProcess(cmd, args, {cwd: REPO_ROOT, env, timeoutMs})
}

/** Runs `fn` over `items` with at most `n` at a time. */
async function pool<T, R>(items: readonly T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  await Promise.all(Array.from({length: Math.min(n, items.length)}, async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i])
    }
  }))
  return out
}

const exampleText = (e: Command.Example): string => (typeof e === 'string' ? e : e.command)
const spaced = (id: string): string => id.replaceAll(':', ' ')

/** Inline code spans and code-block lines of a markdown text (where commands are written; a command starts its fragment). */
function codeFragments(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)].flatMap((m) => m[1].split('\n'))
  const withoutBlocks = markdown.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '')
  const spans = [...withoutBlocks.matchAll(/`([^`\n]+)`/g)].map((m) => m[1])
  return [...blocks, ...spans]
}

describe('raftctl help, examples and completion', function () {
  this.timeout(120_000)
  let config: Config
  let ours: Command.Loadable[]
  let ids: Set<string>

  before(async () => {
    ensureBuilt()
    config = await Config.load(REPO_ROOT)
    ids = new Set(config.commands.filter((c) => !c.hidden).map((c) => c.id))
    ours = config.commands.filter((c) => c.pluginName === config.name && !c.hidden).sort((a, b) => a.id.localeCompare(b.id))
  })

  after(async () => {
    await stopAll()
  })

  it('finds the raftctl commands and the help and autocomplete plugins', () => {
    expect(ours.map((c) => c.id)).to.include.members(['server:start', 'version'])
    expect([...ids]).to.include.members(['help', 'autocomplete'])
  })

  it('gives every command a summary or description and flag help', () => {
    for (const c of ours) {
      const text = (c.summary ?? c.description ?? '').trim()
      expect(text.length, `raftctl ${spaced(c.id)} has no summary or description`).to.be.greaterThan(10)
      for (const [name, flag] of Object.entries(c.flags)) {
        if (flag.hidden) continue
        expect((flag.summary ?? flag.description ?? '').trim(), `raftctl ${spaced(c.id)} --${name} has no summary or description`).to.not.equal('')
      }
      for (const [name, arg] of Object.entries(c.args)) {
        expect((arg.description ?? '').trim(), `raftctl ${spaced(c.id)} argument ${name} has no description`).to.not.equal('')
      }
    }
  })

  it('gives every client command --endpoints, --timeout and --json, and the offline ones --json', () => {
    // Commands that do not talk to a cluster: the node itself, and the offline snapshot commands
    // (they read and write local files only). Every other command is a client of the cluster.
    const notClients = new Set(['server:start', 'version', 'snapshot:inspect', 'snapshot:restore'])
    const noJson = new Set(['server:start'])
    for (const c of ours) {
      const flags = Object.keys(c.flags)
      if (!notClients.has(c.id)) expect(flags, `raftctl ${spaced(c.id)}`).to.include.members(['endpoints', 'timeout', 'json'])
      else if (!noJson.has(c.id)) expect(flags, `raftctl ${spaced(c.id)}`).to.include('json')
    }
    expect(ours.map((c) => c.id)).to.include.members([...notClients])
    expect(ours.filter((c) => !notClients.has(c.id)).length).to.be.greaterThan(15)
  })

  it('gives every command at least one example, and each example runs that command', () => {
    for (const c of ours) {
      const examples = (c.examples ?? []).map(exampleText)
      expect(examples.length, `raftctl ${spaced(c.id)} has no example`).to.be.greaterThan(0)
      for (const e of examples) {
        const rendered = e.replaceAll('<%= config.bin %>', config.bin)
        expect(rendered, `an example of raftctl ${spaced(c.id)}`).to.match(new RegExp(`(^|\\s)${config.bin} ${spaced(c.id)}(\\s|$)`))
      }
    }
  })

  it('prints `raftctl help <command>` with usage and examples for every command', async () => {
    const results = await pool(ours, 4, async (c) => ({c, r: await run(process.execPath, [RUN_BIN, 'help', ...c.id.split(':')])}))
    for (const {c, r} of results) {
      expect(r.code, `raftctl help ${spaced(c.id)}: ${r.stderr}`).to.equal(0)
      expect(r.stdout, `raftctl help ${spaced(c.id)}`).to.include(`$ raftctl ${spaced(c.id)}`)
      expect(r.stdout, `raftctl help ${spaced(c.id)}`).to.match(/^USAGE$/m)
      expect(r.stdout, `raftctl help ${spaced(c.id)}`).to.match(/^EXAMPLES$/m)
    }
  })

  it('lists every topic in `raftctl --help` and its commands in `raftctl help <topic>`', async () => {
    const top = await run(process.execPath, [RUN_BIN, '--help'])
    expect(top.code, top.stderr).to.equal(0)
    const topics = [...new Set(ours.filter((c) => c.id.includes(':')).map((c) => c.id.split(':')[0]))]
    for (const t of topics) {
      expect(top.stdout, `raftctl --help lists ${t}`).to.match(new RegExp(`^\\s+${t}\\s`, 'm'))
      const r = await run(process.execPath, [RUN_BIN, 'help', t])
      expect(r.code, `raftctl help ${t}: ${r.stderr}`).to.equal(0)
      for (const c of ours.filter((x) => x.id.startsWith(`${t}:`))) expect(r.stdout, `raftctl help ${t}`).to.include(spaced(c.id))
    }
  })

  it('has every command that README.md and docs/operations.md mention', () => {
    const missing: string[] = []
    for (const file of ['README.md', 'docs/operations.md']) {
      const path = join(REPO_ROOT, file)
      if (!existsSync(path)) continue
      for (const frag of codeFragments(readFileSync(path, 'utf8'))) {
        for (const m of frag.trim().matchAll(/^(?:\$\s+)?(?:npx\s+)?raftctl ([a-z][\w-]*)(?: ([a-z][\w-]*))?/g)) {
          const id = ids.has(m[1]) || m[2] === undefined ? m[1] : `${m[1]}:${m[2]}`
          if (!ids.has(id)) missing.push(`${file}: raftctl ${spaced(id)}`)
        }
      }
    }
    expect([...new Set(missing)], 'commands the docs mention but the CLI does not have').to.deep.equal([])
  })

  describe('shell completion', () => {
    let cache: string

    before(() => {
      cache = tempDir('raftctl-completion-')
    })

    it('prints setup instructions with `raftctl autocomplete bash`', async () => {
      const r = await run(process.execPath, [RUN_BIN, 'autocomplete', 'bash'], {XDG_CACHE_HOME: cache})
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stdout).to.include('Setup Instructions')
      expect(r.stdout).to.include('raftctl autocomplete script bash')
    })

    it('completes topics, commands and flags in bash', async () => {
      const r = await run(process.execPath, [RUN_BIN, 'autocomplete', '--refresh-cache'], {XDG_CACHE_HOME: cache})
      expect(r.code, r.stderr).to.equal(0)
      const fn = join(cache, 'raftctl', 'autocomplete', 'functions', 'bash', 'raftctl.bash')
      expect(existsSync(fn), fn).to.equal(true)
      const complete = async (words: string[]): Promise<string[]> => {
        const script = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; ` +
          '_raftctl_autocomplete; printf "%s\\n" "${COMPREPLY[@]}"'
        const out = await run('bash', ['-c', script, 'complete', fn, ...words])
        expect(out.code, out.stderr).to.equal(0)
        return out.stdout.split('\n').map((s) => s.trim()).filter((s) => s !== '')
      }
      const topics = [...new Set(ours.map((c) => c.id.split(':')[0]))]
      expect(await complete(['raftctl', ''])).to.include.members(topics)
      expect(await complete(['raftctl', 'server', ''])).to.include('start')
      expect(await complete(['raftctl', 'server', 'start', '--data'])).to.deep.equal(['--data-dir'])
      for (const t of topics.filter((x) => ours.some((c) => c.id.startsWith(`${x}:`)))) {
        const subs = ours.filter((c) => c.id.startsWith(`${t}:`)).map((c) => c.id.split(':')[1])
        expect(await complete(['raftctl', t, '']), `completions of raftctl ${t}`).to.include.members(subs)
      }
    })
  })
})
