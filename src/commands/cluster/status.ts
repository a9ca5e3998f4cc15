import {BaseCommand} from '../../cli/base.js'
import {statusView} from '../../cli/cluster_output.js'
import {type ClusterView, gatherCluster} from '../../cli/cluster_status.js'
import {withClient} from '../../cli/kv_client.js'
import {emit, writeOutFlag} from '../../cli/output.js'

export default class ClusterStatus extends BaseCommand<typeof ClusterStatus> {
  static override summary = 'Show every member\'s Raft state: role, term, leader, commit, applied, lag, db size, reachable.'
  static override description = [
    'Reads the member list from any endpoint, then asks each member for its status at its published client URL',
    '(members not found that way are looked for among --endpoints). A member that does not answer is shown as',
    'unreachable; that is not an error. Lag is how many committed entries the member has yet to apply, compared with',
    'the leader\'s commit index. The command fails only when no endpoint answers at all.',
    'Output (-w): a table on a terminal; simple otherwise: one comma-separated line per member (id, name, endpoint,',
    'role, term, leader, commit, applied, lag, db size in bytes, reachable, problems); fields; json (as --json).',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> cluster status',
    '<%= config.bin %> cluster status --endpoints 127.0.0.1:2379,127.0.0.1:2381',
    '<%= config.bin %> cluster status -w table',
    '<%= config.bin %> cluster status --json',
  ]

  static override flags = {...writeOutFlag}

  public async run(): Promise<ClusterView> {
    await this.parse(ClusterStatus)
    const format = this.outputFormat()
    const view = await withClient(this.endpoints, this.timeoutMs, gatherCluster)
    if (format !== 'result') emit(format, statusView, view)
    return view
  }
}
