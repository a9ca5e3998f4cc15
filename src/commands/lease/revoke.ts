import {textArg} from '../../cli/args.js'
import {BaseCommand} from '../../cli/base.js'
import {leaseIdText, parseLeaseId, withEtcd} from '../../cli/coord.js'
import {emitLease, revokeView} from '../../cli/lease_output.js'
import {writeOutFlag} from '../../cli/output.js'

/** What `raftctl lease revoke` prints with --json. */
export interface RevokeResult {
  readonly id: string
  /** The revision at which the lease's keys were deleted. */
  readonly revision: number
}

export default class LeaseRevoke extends BaseCommand<typeof LeaseRevoke> {
  static override summary = 'Revoke a lease, deleting every key attached to it in one revision.'
  static override description = [
    'Ends the lease at once; its keys are deleted in one revision (watchers see one delete event per key).',
    'A lease that does not exist (expired, revoked or never granted) is an error.',
    'Output (-w): simple ("lease <id> revoked"), json (etcdctl\'s JSON), fields, or a table.',
  ].join(' ')

  static override examples = ['<%= config.bin %> lease revoke 694d77aa9e38260f']

  static override args = {
    id: textArg({description: 'The lease id in hex, as `lease grant` and `lease list` print it.', required: true}),
  }

  static override flags = {...writeOutFlag}

  public async run(): Promise<RevokeResult> {
    const {args} = await this.parse(LeaseRevoke)
    const id = parseLeaseId(args.id)
    const format = this.outputFormat('simple')
    const res = await withEtcd(this.endpoints, this.timeoutMs, (c) => c.leaseRevoke(id)).catch((err: Error & {details?: string}) => {
      throw Object.assign(new Error(`cannot revoke lease ${leaseIdText(id)}: ${err.details || err.message}`), {code: (err as {code?: unknown}).code})
    })
    if (format !== 'result') emitLease(format, revokeView, {id, res})
    return {id: leaseIdText(id), revision: res.header?.revision ?? 0}
  }
}
