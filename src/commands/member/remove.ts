import {Flags} from '@oclif/core'
import {textArg} from '../../cli/args.js'
import {BaseCommand} from '../../cli/base.js'
import {withClient} from '../../cli/kv_client.js'
import {parseNodeId} from '../../cli/member_args.js'
import {type MembershipJson, membershipToJson, type RoleName} from '../../cli/member_format.js'
import {listMembers, requireMember} from '../../cli/member_ops.js'
import {confirmRisky} from '../../cli/prompt.js'

/** What `raftctl member remove` prints with --json. */
export interface MemberRemoveResult extends MembershipJson {
  readonly removed: number
  /** The role the member had before it was removed. */
  readonly previousRole: RoleName
}

export default class MemberRemove extends BaseCommand<typeof MemberRemove> {
  static override summary = 'Remove a member (voter or learner) from the cluster.'
  static override description = [
    'Removing a voter shrinks the voter set and is refused when the remaining reachable voters could not form a quorum;',
    'it asks for confirmation (--yes skips; without a terminal --yes is required). Removing a learner does not affect',
    'quorum and is not asked about. Removing the last voter is refused. Stop the removed node afterwards: its former',
    'peers refuse its messages.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> member remove 4',
    '<%= config.bin %> member remove 3 --yes',
    '<%= config.bin %> member remove 3 --yes --json',
  ]

  static override args = {
    id: textArg({description: 'The member\'s node id.', required: true}),
  }

  static override flags = {
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation.'}),
  }

  public async run(): Promise<MemberRemoveResult> {
    const {args, flags} = await this.parse(MemberRemove)
    const id = parseNodeId('member id', args.id)
    return withClient(this.endpoints, this.timeoutMs, async (c) => {
      const list = await listMembers(c)
      const before = requireMember(list, id)
      if (before.role !== 'learner') {
        await confirmRisky(`removing voter ${id}`,
          `Remove voter ${id}? The cluster will have ${list.config.voters.filter((v) => v !== id).length} voter(s).`, flags.yes)
      }
      await c.memberRemove(id)
      const out = await listMembers(c)
      this.log(`Removed node ${id} (was ${before.role}). Configuration: ${out.config.text}`)
      return {...out, removed: id, previousRole: before.role}
    })
  }
}
