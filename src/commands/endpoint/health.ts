import {BaseCommand} from '../../cli/base.js'
import {type EndpointHealth, endpointHealths, endpointHealthView} from '../../cli/endpoint.js'
import {withClient} from '../../cli/kv_client.js'
import {type Chunk, emit, writeOutFlag} from '../../cli/output.js'

export default class EndpointHealthCommand extends BaseCommand<typeof EndpointHealthCommand> {
  static override summary = 'Check that each endpoint can serve a linearizable read, as etcdctl endpoint health does.'
  static override description = [
    'Reads the key "health" linearizably through every --endpoints entry (the member must know a leader and a quorum',
    'must confirm the read) and reports how long it took. Exits 1 with "unhealthy cluster" when any endpoint fails.',
    'Output (-w): simple (etcdctl\'s lines, on stderr), table, fields or json, as etcdctl 3.4 prints them.',
    '`raftctl cluster health` runs the same check on the leader, after checking that a quorum of voters answers.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> endpoint health',
    '<%= config.bin %> endpoint health --endpoints 127.0.0.1:2379,127.0.0.1:2381 -w json',
  ]

  static override flags = {...writeOutFlag}

  public async run(): Promise<EndpointHealth[]> {
    await this.parse(EndpointHealthCommand)
    const format = this.outputFormat()
    const xs = await withClient(this.endpoints, this.timeoutMs, endpointHealths)
    const toStderr = (chunks: readonly Chunk[]): void => void process.stderr.write(chunks.join(''))
    if (format !== 'result') emit(format, endpointHealthView, xs, format === 'simple' ? toStderr : undefined)
    if (xs.some((h) => !h.health)) {
      if (format !== 'result') process.stderr.write('Error: unhealthy cluster\n')
      process.exitCode = 1
    }
    return xs
  }
}
