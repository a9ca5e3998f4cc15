import {BaseCommand} from '../../cli/base.js'
import {type HealthResult, healthView} from '../../cli/cluster_output.js'
import {gatherCluster, quorumOf} from '../../cli/cluster_status.js'
import {checkHealth} from '../../cli/endpoint.js'
import {withClient} from '../../cli/kv_client.js'
import {emit, writeOutFlag} from '../../cli/output.js'

export type {HealthResult} from '../../cli/cluster_output.js'

export default class ClusterHealth extends BaseCommand<typeof ClusterHealth> {
  static override summary = 'Check that the cluster can serve: a leader exists and a quorum of voters answers.'
  static override description = [
    'Asks every member for its status and the leader to confirm a quorum: the linearizable read of `raftctl endpoint health`.',
    'Exits 0 and prints one line when healthy; otherwise exits 1 with a line saying what is wrong',
    '(no leader, the leader does not answer, too few voters answer). In a joint configuration both voter sets need a quorum.',
    'Output (-w): a one-row table on a terminal; simple otherwise (that one line, nothing when unhealthy); fields; json (as --json).',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> cluster health',
    '<%= config.bin %> cluster health --endpoints 127.0.0.1:2379,127.0.0.1:2381 --timeout 2s',
    '<%= config.bin %> cluster health --json',
  ]

  static override flags = {...writeOutFlag}

  public async run(): Promise<HealthResult> {
    await this.parse(ClusterHealth)
    const format = this.outputFormat()
    const result = await withClient(this.endpoints, this.timeoutMs, (c) => check(c))
    if (format !== 'result') emit(format, healthView, result)
    if (!result.healthy) {
      if (format !== 'result') process.stderr.write(`Error: cluster is unhealthy: ${result.problems.join('; ')}\n`)
      process.exitCode = 1
    }
    return result
  }
}

async function check(client: Parameters<typeof gatherCluster>[0]): Promise<HealthResult> {
  const view = await gatherCluster(client)
  const up = new Set(view.members.filter((m) => m.reachable).map((m) => m.id))
  const cs = view.confState
  const problems: string[] = []
  for (const [label, set] of [['voters', cs.voters], ['outgoing voters', cs.votersOutgoing]] as const) {
    if (set.length === 0) continue
    const answering = set.filter((id) => up.has(id))
    if (answering.length < quorumOf(set)) {
      problems.push(`only ${answering.length} of ${set.length} ${label} answer (quorum is ${quorumOf(set)}); ` +
        `not answering: ${set.filter((id) => !up.has(id)).join(', ')}`)
    }
  }
  const leaderRow = view.members.find((m) => m.id === view.leader)
  if (view.leader === 0) {
    const seen = [...new Set(view.members.filter((m) => m.reachable && m.leader !== 0).map((m) => m.leader))]
    problems.unshift(seen.length > 1 ? `the members disagree on the leader (${seen.join(', ')})` : 'no leader: the members that answer know of no live leader')
  } else if (leaderRow === undefined || !leaderRow.reachable) {
    problems.unshift(`leader ${view.leader} does not answer`)
  } else if (problems.length === 0) {
    const h = await checkHealth(client, leaderRow.endpoint)
    if (!h.health) problems.push(`leader ${view.leader} cannot confirm a quorum: ${h.error}`)
  }
  return {
    healthy: problems.length === 0, leader: view.leader, term: leaderRow?.term ?? 0, voters: cs.voters,
    votersAnswering: cs.voters.filter((id) => up.has(id)).length, quorum: quorumOf(cs.voters), problems,
  }
}
