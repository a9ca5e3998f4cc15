import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {REPO_ROOT, runCli} from '../harness/cli.js'

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {version: string}

describe('raftctl version and help', () => {
  it('prints the version line', async () => {
    const r = await runCli(['version'])
    expect(r.code).to.equal(0)
    expect(r.stdout.trim()).to.equal(`raftctl/${pkg.version} ${process.platform}-${process.arch} node-${process.version}`)
  })

  it('prints the version as JSON with --json', async () => {
    const r = await runCli(['version', '--json'])
    expect(r.code).to.equal(0)
    const info = JSON.parse(r.stdout) as Record<string, string>
    expect(info).to.include({name: 'raftctl', version: pkg.version, node: process.version})
  })

  it('lists the version command in --help', async () => {
    const r = await runCli(['--help'])
    expect(r.code).to.equal(0)
    expect(r.stdout).to.match(/USAGE\s+\$ raftctl/)
    expect(r.stdout).to.match(/version\s+Print the raftctl version/)
  })

  it('fails with a one-line error for an unknown command', async () => {
    const r = await runCli(['no-such-command'])
    expect(r.code).to.not.equal(0)
    // This test runs the CLI from the sources (bin/dev.js), so the help command is named that way.
    expect(r.stderr.trim()).to.equal('Error: no-such-command is not a raftctl command; see `bin/dev.js help` for the commands')
  })
})
