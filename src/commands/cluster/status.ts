import {BaseCommand} from '../../cli/base.js'
import {type ClusterView, gatherCluster} from '../../cli/cluster_status.js'
import {withClient} from '../../cli/kv_client.js'
import {formatBytes, renderTable} from '../../cli/table.js'

export default class ClusterStatus extends BaseCommand<typeof ClusterStatus> {
  static override summary = 'Show every member\'s Raft state: role, term, leader, commit, applied, lag, db size, reachable.'
  static override description = [
    'Reads the member list from any endpoint, then asks each member for its status at its published client URL',
    '(members not found that way are looked for among --endpoints). A member that does not answer is shown as',
    'unreachable; that is not an error. Lag is how many committed entries the member has yet to apply, compared with',
    'the leader\'s commit index. The command fails only when no endpoint answers at all.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> cluster status',
    '<%= config.bin %> cluster status --endpoints 127.0.0.1:2379,127.0.0.1:2381',
    '<%= config.bin %> cluster status --json',
  ]

  public async run(): Promise<ClusterView> {
    await this.parse(ClusterStatus)
    const view = await withClient(this.endpoints, this.timeoutMs, gatherCluster)
    const rows = view.members.map((m) => m.reachable
      ? [m.id, m.name, m.endpoint, m.role, m.term, m.leader || 'none', m.commitIndex, m.appliedIndex, m.lag, formatBytes(m.dbSize), 'yes']
      : [m.id, m.name, m.endpoint || '-', m.role, '-', '-', '-', '-', '-', '-', `no: ${m.errors[0] ?? ''}`])
    this.log(renderTable(['ID', 'NAME', 'ENDPOINT', 'ROLE', 'TERM', 'LEADER', 'COMMIT', 'APPLIED', 'LAG', 'DB SIZE', 'REACHABLE'], rows))
    const down = view.members.filter((m) => !m.reachable).length
    this.log(`${view.leader === 0 ? 'no leader agreed on' : `leader: ${view.leader}`}; ` +
      `${view.members.length - down} of ${view.members.length} members reachable`)
    return view
  }
}
