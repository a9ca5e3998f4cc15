import {BaseCommand} from '../../cli/base.js'
import {type EndpointStatus, endpointStatuses, endpointStatusView, failedLines} from '../../cli/endpoint.js'
import {withClient} from '../../cli/kv_client.js'
import {emit, writeOutFlag} from '../../cli/output.js'

export default class EndpointStatusCommand extends BaseCommand<typeof EndpointStatusCommand> {
  static override summary = 'Print each endpoint\'s etcd Status, as etcdctl endpoint status does.'
  static override description = [
    'Asks every --endpoints entry for etcd\'s Maintenance Status: member id, version, database size, whether it leads,',
    'whether it is a learner, Raft term, Raft index (commit), applied index and errors.',
    'An endpoint that does not answer is reported on stderr and the command exits 1 after printing the others.',
    'Output (-w): simple (etcdctl\'s comma-separated line, ids in hex), table, fields or json, each exactly as etcdctl 3.4',
    'prints them; --json prints raftctl\'s result object. `raftctl cluster status` shows raftctl\'s own view per member.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> endpoint status',
    '<%= config.bin %> endpoint status --endpoints 127.0.0.1:2379,127.0.0.1:2381 -w table',
    '<%= config.bin %> endpoint status -w json',
  ]

  static override flags = {...writeOutFlag}

  public async run(): Promise<EndpointStatus[]> {
    await this.parse(EndpointStatusCommand)
    const format = this.outputFormat()
    const xs = await withClient(this.endpoints, this.timeoutMs, endpointStatuses)
    if (format !== 'result') emit(format, endpointStatusView, xs)
    process.stderr.write(failedLines(xs, 'status'))
    if (xs.some((x) => x.error !== undefined)) process.exitCode = 1
    return xs
  }
}
