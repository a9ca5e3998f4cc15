/**
 * The membership and leader commands document themselves for `raftctl help <command>`: a
 * summary, a description, examples that use the command, and a summary for every flag. One help
 * page is rendered through the built CLI to check it shows the examples.
 */
import {expect} from 'chai'
import LeaderTransfer from '../../src/commands/leader/transfer.js'
import MemberAdd from '../../src/commands/member/add.js'
import MemberChange from '../../src/commands/member/change.js'
import MemberDemote from '../../src/commands/member/demote.js'
import MemberLeaveJoint from '../../src/commands/member/leave-joint.js'
import MemberList from '../../src/commands/member/list.js'
import MemberPromote from '../../src/commands/member/promote.js'
import MemberRemove from '../../src/commands/member/remove.js'
import MemberUpdate from '../../src/commands/member/update.js'
import {runCli} from '../commands/cli_harness.js'
import {ensureBuilt} from '../integration/harness.js'

const COMMANDS = {
  'member add': MemberAdd, 'member change': MemberChange, 'member demote': MemberDemote, 'member leave-joint': MemberLeaveJoint,
  'member list': MemberList, 'member promote': MemberPromote, 'member remove': MemberRemove, 'member update': MemberUpdate,
  'leader transfer': LeaderTransfer,
}

describe('membership commands: help', () => {
  for (const [id, cmd] of Object.entries(COMMANDS)) {
    it(`${id} has a summary, a description, examples and flag summaries`, () => {
      expect(cmd.summary, 'summary').to.be.a('string').with.length.greaterThan(10)
      expect(cmd.description, 'description').to.be.a('string').with.length.greaterThan(cmd.summary!.length)
      const examples = (cmd.examples ?? []) as string[]
      expect(examples.length, 'examples').to.be.at.least(2)
      for (const e of examples) expect(e).to.match(new RegExp(`^<%= config.bin %> ${id}( |$)`))
      expect(examples.some((e) => e.includes('--json')), 'an example with --json').to.equal(true)
      for (const [name, flag] of Object.entries(cmd.flags ?? {})) expect((flag as {summary?: string}).summary, `--${name}`).to.be.a('string')
      expect(cmd.enableJsonFlag).to.equal(true)
    })
  }

  it('renders the examples in `raftctl help member change`', async function () {
    this.timeout(240_000)
    ensureBuilt()
    const r = await runCli(['help', 'member', 'change'])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.contain('EXAMPLES')
    expect(r.stdout).to.contain('$ raftctl member change --add-voter 4=10.0.0.4:2380 --remove 3 --yes')
    expect(r.stdout).to.contain('--add-voter=<value>...')
  })
})
