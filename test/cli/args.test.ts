/**
 * No command lets oclif fill a positional argument from standard input (see src/cli/args.ts):
 * every argument of every command class under src/commands has ignoreStdin set.
 */
import {expect} from 'chai'
import {readdirSync} from 'node:fs'
import {join, relative} from 'node:path'
import {pathToFileURL} from 'node:url'
import {REPO_ROOT} from '../integration/harness.js'

function commandFiles(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) =>
    e.isDirectory() ? commandFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [])
}

describe('cli: positional arguments', () => {
  it('are never read from standard input by oclif', async () => {
    const root = join(REPO_ROOT, 'src', 'commands')
    let args = 0
    for (const file of commandFiles(root)) {
      const cmd = (await import(pathToFileURL(file).href)).default as {args?: Record<string, {ignoreStdin?: boolean}>}
      for (const [name, arg] of Object.entries(cmd.args ?? {})) {
        args++
        expect(arg.ignoreStdin, `${relative(root, file)} argument ${name}`).to.equal(true)
      }
    }
    expect(args, 'the commands take positional arguments').to.be.greaterThan(10)
  })
})
