import {textArg} from '../../cli/args.js'
import {BaseCommand} from '../../cli/base.js'
import {leaseIdText, withEtcd} from '../../cli/coord.js'
import {emitLease, grantView} from '../../cli/lease_output.js'
import {UsageError} from '../../cli/member_args.js'
import {writeOutFlag} from '../../cli/output.js'

/** What `raftctl lease grant` prints with --json. */
export interface GrantResult {
  /** The lease id in hex, as the other lease commands take it. */
  readonly id: string
  /** The TTL granted in seconds (the server raises one below its minimum). */
  readonly ttl: number
}

/** Parses a TTL argument: a whole number of seconds, at least 1. */
export function parseTtl(text: string, what = 'TTL'): number {
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text.trim())) || Number(text.trim()) < 1) {
    throw new UsageError(`${what} "${text}" is not a whole number of seconds of at least 1`)
  }
  return Number(text.trim())
}

export default class LeaseGrant extends BaseCommand<typeof LeaseGrant> {
  static override summary = 'Grant a lease: keys put with it are deleted when it expires or is revoked.'
  static override description = [
    'Grants a lease of TTL seconds and prints its id in hex, as etcdctl does ("lease 694d77aa9e38260f granted with TTL(60s)").',
    'The cluster raises a TTL below its minimum (derived from the election timeout) and refuses one that is too large.',
    'Keep it alive with `raftctl lease keep-alive`, attach keys with `raftctl kv put --lease`.',
    'Output (-w): simple (etcdctl\'s line), json (etcdctl\'s JSON), fields, or a table.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> lease grant 60',
    '<%= config.bin %> lease grant 30 -w json',
  ]

  static override args = {
    ttl: textArg({description: 'The time to live in seconds.', required: true}),
  }

  static override flags = {...writeOutFlag}

  public async run(): Promise<GrantResult> {
    const {args} = await this.parse(LeaseGrant)
    const ttl = parseTtl(args.ttl)
    const format = this.outputFormat('simple')
    const res = await withEtcd(this.endpoints, this.timeoutMs, (c) => c.leaseGrant(ttl))
    if (res.error !== '') throw new Error(`lease grant failed: ${res.error}`)
    if (format !== 'result') emitLease(format, grantView, res)
    return {id: leaseIdText(res.ID), ttl: res.TTL}
  }
}
