/**
 * An unknown command is named as typed (`kv gett`, not oclif's id `kv:gett`) in one error line
 * with exit code 2, suggesting the closest command, or the help command when nothing is close.
 */
import {expect} from 'chai'
import {closestCommand, editDistance, notFoundMessage} from '../../src/cli/not_found.js'
import {errorLine, runCli} from '../commands/cli_harness.js'
import {ensureBuilt} from '../integration/harness.js'

const COMMANDS = ['kv get', 'kv put', 'kv del', 'kv watch', 'kv txn', 'member list', 'member add', 'member promote', 'cluster status', 'version']
const TOPICS = ['kv', 'member', 'cluster']

describe('unknown commands', function () {
  this.timeout(60_000)

  it('measures edit distance', () => {
    expect(editDistance('gett', 'get')).to.equal(1)
    expect(editDistance('', 'abc')).to.equal(3)
    expect(editDistance('kitten', 'sitting')).to.equal(3)
  })

  it('suggests the closest command, compared word for word, only when it is close', () => {
    expect(closestCommand(['kv', 'gett', 'mykey'], COMMANDS)).to.equal('kv get')
    expect(closestCommand(['membr', 'lst'], COMMANDS)).to.equal('member list')
    expect(closestCommand(['versoin'], COMMANDS)).to.equal('version')
    expect(closestCommand(['frobnicate'], COMMANDS)).to.equal(undefined)
  })

  it('names the command as typed, with spaces, and a real command in the hint', () => {
    expect(notFoundMessage('raftctl', 'kv:gett:mykey', COMMANDS, TOPICS))
      .to.equal('kv gett is not a raftctl command; did you mean `kv get`? (`raftctl help kv` lists the commands)')
    expect(notFoundMessage('raftctl', 'kvv', COMMANDS, TOPICS)).to.equal('kvv is not a raftctl command; did you mean `kv`? (`raftctl help` lists the commands)')
    expect(notFoundMessage('raftctl', 'frobnicate:now', COMMANDS, TOPICS)).to.equal('frobnicate is not a raftctl command; see `raftctl help` for the commands')
  })

  it('prints one line and exits 2 from the built CLI', async () => {
    ensureBuilt()
    const r = await runCli(['kv', 'gett', 'mykey'])
    expect(r.code).to.equal(2)
    expect(r.stdout).to.equal('')
    expect(errorLine(r)).to.equal('Error: kv gett is not a raftctl command; did you mean `kv get`? (`raftctl help kv` lists the commands)')
    const m = await runCli(['member', 'promot', '4'])
    expect(errorLine(m)).to.equal('Error: member promot is not a raftctl command; did you mean `member promote`? (`raftctl help member` lists the commands)')
  })
})
