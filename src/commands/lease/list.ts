import {BaseCommand} from '../../cli/base.js'
import {leaseIdText, withEtcd} from '../../cli/coord.js'
import {emitLease, leasesView} from '../../cli/lease_output.js'
import {writeOutFlag} from '../../cli/output.js'

/** What `raftctl lease list` prints with --json. */
export interface ListResult {
  /** The ids of every live lease, in hex, in the order the cluster listed them. */
  readonly leases: string[]
}

export default class LeaseList extends BaseCommand<typeof LeaseList> {
  static override summary = 'List the ids of every live lease.'
  static override description = [
    'Prints "found N leases" and one id per line, in hex, as etcdctl does.',
    'Output (-w): simple, json (etcdctl\'s JSON, ids in decimal), fields, or a table.',
  ].join(' ')

  static override examples = ['<%= config.bin %> lease list', '<%= config.bin %> lease list --json']

  static override flags = {...writeOutFlag}

  public async run(): Promise<ListResult> {
    await this.parse(LeaseList)
    const format = this.outputFormat('simple')
    const res = await withEtcd(this.endpoints, this.timeoutMs, (c) => c.leaseLeases())
    if (format !== 'result') emitLease(format, leasesView, res)
    return {leases: res.leases.map((l) => leaseIdText(l.ID))}
  }
}
