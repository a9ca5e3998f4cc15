import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base.js'
import {withClient} from '../../cli/kv_client.js'
import {type MembershipJson, memberListView} from '../../cli/member_format.js'
import {listMembers} from '../../cli/member_ops.js'
import {emit, writeOutFlag} from '../../cli/output.js'
import {commandLine} from '../../cli/invocation.js'

export default class MemberList extends BaseCommand<typeof MemberList> {
  static override summary = 'List the members: role, replication progress, leader, and the configuration.'
  static override description = [
    'One row per member: id, name, peer and client URL, role (voter, learner, learner-next = a voter being demoted',
    'in a joint configuration, outgoing-voter = a voter being removed), match index, lag behind the leader\'s last',
    'index, progress state (probe, replicate, snapshot) and a * for the leader. Progress is known only to the leader;',
    'the list is asked of the leader when it can be reached, otherwise progress shows "-". The last line states the',
    'configuration in etcd\'s format: voters=(1 2 3)&&(1 2) learners=(4) learners_next=(3) autoleave.',
    'Output (-w): that table on a terminal; simple otherwise: one comma-separated line per member with the same',
    'columns (leader true/false); fields; json (the same object as --json).',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> member list',
    '<%= config.bin %> member list -w simple',
    '<%= config.bin %> member list --endpoints 127.0.0.1:2379,127.0.0.1:2381 --json',
  ]

  static override flags = {
    linearizable: Flags.boolean({summary: 'Read the list through the leader after a ReadIndex round (never stale).'}),
    ...writeOutFlag,
  }

  public async run(): Promise<MembershipJson> {
    const {flags} = await this.parse(MemberList)
    const format = this.outputFormat()
    const list = await withClient(this.endpoints, this.timeoutMs, (c) => listMembers(c, flags.linearizable))
    if (format !== 'result') emit(format, memberListView, {list, notes: this.notes(list)})
    return list
  }

  /** Why replication progress is unknown, when it is (for the table format). */
  private notes(list: MembershipJson): string[] {
    if (!list.members.every((m) => m.progressState === 'unknown')) return []
    return [list.members.some((m) => m.isLeader)
      ? '(replication progress unknown: the leader could not be asked; give its endpoint with --endpoints)'
      : `(replication progress unknown: no leader is known now; see ${commandLine(this.config, ['cluster', 'health'])})`]
  }
}
