/**
 * Printed command lines name the CLI the way it was run (src/cli/invocation.ts): `npx raftctl`
 * through npx, the bin/dev.js path from the sources, `raftctl` otherwise; and every argument is
 * quoted so a POSIX shell reads it back unchanged (checked against a real `sh`).
 */
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import fc from 'fast-check'
import {commandLine, invocationWords, shellQuote} from '../../src/cli/invocation.js'

const facts = (env: NodeJS.ProcessEnv, script: string, cwd = '/work/repo') => ({env, script, cwd})

describe('cli/invocation: how printed command lines name the CLI', () => {
  it('says `npx raftctl` when npx ran raftctl (npm_lifecycle_event=npx and the script is raftctl, quoted or not)', () => {
    const npx = {npm_lifecycle_event: 'npx', npm_command: 'exec', npm_lifecycle_script: '\'raftctl\''}
    expect(invocationWords('raftctl', facts(npx, '/root/.npm/_npx/abc/node_modules/.bin/raftctl'))).to.deep.equal(['npx', 'raftctl'])
    expect(invocationWords('raftctl', facts({...npx, npm_lifecycle_script: 'raftctl member add 4'}, '/x/raftctl'))).to.deep.equal(['npx', 'raftctl'])
  })

  it('is not fooled by npm variables inherited from another npx or npm command (npx mocha, npm test)', () => {
    expect(invocationWords('raftctl', facts({npm_lifecycle_event: 'npx', npm_lifecycle_script: 'mocha'}, '/r/bin/run.js'))).to.deep.equal(['raftctl'])
    expect(invocationWords('raftctl', facts({npm_lifecycle_event: 'test', npm_command: 'test', npm_lifecycle_script: 'mocha'}, '/r/bin/run.js')))
      .to.deep.equal(['raftctl'])
  })

  it('names bin/dev.js by its path when run from the sources: relative below the working directory, else absolute', () => {
    expect(invocationWords('raftctl', facts({}, '/work/repo/bin/dev.js'))).to.deep.equal(['bin/dev.js'])
    expect(invocationWords('raftctl', facts({}, '/work/repo/bin/dev.js', '/work/repo/bin'))).to.deep.equal(['./dev.js'])
    expect(invocationWords('raftctl', facts({}, '/work/repo/bin/dev.js', '/tmp'))).to.deep.equal(['/work/repo/bin/dev.js'])
  })

  it('says `raftctl` for the installed CLI', () => {
    expect(invocationWords('raftctl', facts({}, '/usr/local/bin/raftctl'))).to.deep.equal(['raftctl'])
    expect(invocationWords('raftctl', facts({}, '/work/repo/bin/run.js'))).to.deep.equal(['raftctl'])
  })

  it('quotes every argument so that sh reads it back unchanged (property, against /bin/sh)', () => {
    const line = commandLine({bin: 'raftctl'}, ['server', 'start', '--data-dir', '/var/lib/raft ctl', '--name', 'it\'s'], facts({}, '/usr/bin/raftctl'))
    expect(line).to.equal('raftctl server start --data-dir \'/var/lib/raft ctl\' --name \'it\'\\\'\'s\'')
    expect(shellQuote('')).to.equal('\'\'')
    const words = fc.array(fc.string({unit: 'binary', minLength: 0, maxLength: 12}).filter((s) => !s.includes('\0')), {minLength: 1, maxLength: 6})
    fc.assert(fc.property(words, (args) => {
      const r = spawnSync('sh', ['-c', `for a in ${args.map(shellQuote).join(' ')}; do printf '%s\\0' "$a"; done`], {encoding: 'utf8', timeout: 5000})
      expect(r.stdout.split('\0').slice(0, -1)).to.deep.equal(args)
    }), {numRuns: 60})
  })
})
