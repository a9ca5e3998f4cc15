import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base.js'
import {type EndpointHash, endpointHashes, endpointHashView, failedLines} from '../../cli/endpoint.js'
import {checkInt, withClient} from '../../cli/kv_client.js'
import {emit, writeOutFlag} from '../../cli/output.js'

export default class EndpointHashKv extends BaseCommand<typeof EndpointHashKv> {
  static override summary = 'Print each endpoint\'s hash of its key history, as etcdctl endpoint hashkv does.'
  static override description = [
    'Asks every --endpoints entry for etcd\'s HashKV: a hash of its key/value history up to --rev (default: its latest',
    'revision). Members that applied the same history answer the same hash, so differing hashes at one revision mean',
    'the members diverged. An endpoint that does not answer is reported on stderr and the command exits 1 after printing',
    'the others. Output (-w): simple (endpoint, hash), table, fields or json, as etcdctl 3.4 prints them.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> endpoint hashkv',
    '<%= config.bin %> endpoint hashkv --endpoints 127.0.0.1:2379,127.0.0.1:2381 --rev 120 -w table',
  ]

  static override flags = {
    ...writeOutFlag,
    rev: Flags.integer({summary: 'Hash the history up to this revision (0: the latest).', default: 0}),
  }

  public async run(): Promise<EndpointHash[]> {
    const {flags} = await this.parse(EndpointHashKv)
    const rev = checkInt('rev', flags.rev, 0) ?? 0
    const format = this.outputFormat()
    const xs = await withClient(this.endpoints, this.timeoutMs, (c) => endpointHashes(c, rev))
    if (format !== 'result') emit(format, endpointHashView, xs)
    process.stderr.write(failedLines(xs, 'hash'))
    if (xs.some((x) => x.error !== undefined)) process.exitCode = 1
    return xs
  }
}
