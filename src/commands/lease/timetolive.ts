import {Flags} from '@oclif/core'
import {textArg} from '../../cli/args.js'
import {BaseCommand} from '../../cli/base.js'
import {leaseIdText, parseLeaseId, withEtcd} from '../../cli/coord.js'
import {emitLease, leaseGone, timeToLiveView} from '../../cli/lease_output.js'
import {writeOutFlag} from '../../cli/output.js'

/** What `raftctl lease timetolive` prints with --json. */
export interface TimeToLiveResult {
  readonly id: string
  /** False when the lease does not exist (expired, revoked or never granted); the TTLs are then -1 and 0. */
  readonly exists: boolean
  /** Seconds left. */
  readonly ttl: number
  /** The TTL it was granted with. */
  readonly grantedTtl: number
  /** The keys attached to it (with --keys), as UTF-8 text. */
  readonly keys?: string[]
}

export default class LeaseTimeToLive extends BaseCommand<typeof LeaseTimeToLive> {
  static override summary = 'Show a lease\'s remaining and granted TTL, and with --keys the keys attached to it.'
  static override description = [
    'Prints etcdctl\'s line: "lease <id> granted with TTL(60s), remaining(42s)", or "lease <id> already expired" when it does',
    'not exist (exit code 0, as etcdctl). Output (-w): simple, json (etcdctl\'s JSON, keys base64), fields, or a table.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> lease timetolive 694d77aa9e38260f',
    '<%= config.bin %> lease timetolive 694d77aa9e38260f --keys -w json',
  ]

  static override args = {
    id: textArg({description: 'The lease id in hex, as `lease grant` and `lease list` print it.', required: true}),
  }

  static override flags = {
    keys: Flags.boolean({summary: 'Also list the keys attached to the lease.'}),
    ...writeOutFlag,
  }

  public async run(): Promise<TimeToLiveResult> {
    const {args, flags} = await this.parse(LeaseTimeToLive)
    const id = parseLeaseId(args.id)
    const format = this.outputFormat('simple')
    const res = await withEtcd(this.endpoints, this.timeoutMs, (c) => c.leaseTimeToLive(id, flags.keys))
    if (format !== 'result') emitLease(format, timeToLiveView, {res, keys: flags.keys})
    return {
      id: leaseIdText(id), exists: !leaseGone(res), ttl: res.TTL, grantedTtl: res.grantedTTL,
      ...(flags.keys ? {keys: res.keys.map((k) => Buffer.from(k).toString('utf8'))} : {}),
    }
  }
}
