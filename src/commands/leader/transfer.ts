import {textArg} from '../../cli/args.js'
import {BaseCommand} from '../../cli/base.js'
import {withClient} from '../../cli/kv_client.js'
import {parseNodeId} from '../../cli/member_args.js'
import {type MembershipJson} from '../../cli/member_format.js'
import {listMembers, requireMember} from '../../cli/member_ops.js'

/** What `raftctl leader transfer` prints with --json. */
export interface LeaderTransferResult extends MembershipJson {
  /** The leader before the transfer (0 when none was known). */
  readonly previousLeader: number
  /** The leader after it: the target. */
  readonly leader: number
}

export default class LeaderTransfer extends BaseCommand<typeof LeaderTransfer> {
  static override summary = 'Hand leadership to another voter (e.g. before restarting the leader\'s machine).'
  static override description = [
    'The leader brings the target\'s log up to date and tells it to campaign at once (Raft thesis §3.10); the command',
    'returns when the target leads. The target must be a voter. Transferring to the current leader changes nothing.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> leader transfer 2',
    '<%= config.bin %> leader transfer 2 --json',
  ]

  static override args = {
    id: textArg({description: 'The voter that should lead.', required: true}),
  }

  public async run(): Promise<LeaderTransferResult> {
    const {args} = await this.parse(LeaderTransfer)
    const id = parseNodeId('target id', args.id)
    return withClient(this.endpoints, this.timeoutMs, async (c) => {
      const before = await listMembers(c)
      requireMember(before, id)
      const previousLeader = before.members.find((m) => m.isLeader)?.id ?? 0
      // etcd's MoveLeader answers once the target leads (or refuses with the leader's reason).
      await c.moveLeader(id)
      const out = await listMembers(c)
      this.log(previousLeader === id
        ? `Node ${id} already leads; nothing changed.`
        : `Leadership transferred from node ${previousLeader || 'none'} to node ${id}.`)
      return {...out, previousLeader, leader: id}
    })
  }
}
