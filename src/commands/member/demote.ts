import {Flags} from '@oclif/core'
import {textArg} from '../../cli/args.js'
import {BaseCommand} from '../../cli/base.js'
import {withClient} from '../../cli/kv_client.js'
import {parseNodeId} from '../../cli/member_args.js'
import {type MemberJson, type MembershipJson, memberToJson, membershipToJson} from '../../cli/member_format.js'
import {listMembers, requireMember} from '../../cli/member_ops.js'
import {confirmRisky} from '../../cli/prompt.js'

/** What `raftctl member demote` prints with --json. */
export interface MemberDemoteResult extends MembershipJson {
  readonly member: MemberJson
  /** False when the member already was a learner (nothing changed). */
  readonly demoted: boolean
}

export default class MemberDemote extends BaseCommand<typeof MemberDemote> {
  static override summary = 'Demote a voter to learner: it keeps receiving the log but no longer votes.'
  static override description = [
    'Demoting a voter shrinks the voter set, so the cluster tolerates fewer failures: it asks for confirmation',
    '(--yes skips; without a terminal --yes is required). Demoting the leader makes it step down. Demoting the last',
    'voter is refused. Demoting a learner succeeds and changes nothing.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> member demote 3',
    '<%= config.bin %> member demote 3 --yes --json',
  ]

  static override args = {
    id: textArg({description: 'The voter\'s node id.', required: true}),
  }

  static override flags = {
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation.'}),
  }

  public async run(): Promise<MemberDemoteResult> {
    const {args, flags} = await this.parse(MemberDemote)
    const id = parseNodeId('member id', args.id)
    return withClient(this.endpoints, this.timeoutMs, async (c) => {
      const list = await listMembers(c)
      const before = requireMember(list, id)
      if (before.role === 'voter') {
        await confirmRisky(`demoting voter ${id}`,
          `Demote voter ${id} to learner? The cluster will have ${list.config.voters.length - 1} voter(s).`, flags.yes)
      }
      const res = await c.memberDemote(id)
      const out = membershipToJson(res)
      const member = requireMember(out, id)
      const demoted = before.role === 'voter'
      this.log(demoted ? `Demoted node ${id} to learner. Configuration: ${out.config.text}`
        : `Node ${id} is not a voter (${before.role}); nothing changed. Configuration: ${out.config.text}`)
      return {...out, member, demoted}
    })
  }
}
