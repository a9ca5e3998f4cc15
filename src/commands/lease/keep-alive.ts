import {Flags} from '@oclif/core'
import {textArg} from '../../cli/args.js'
import {BaseCommand} from '../../cli/base.js'
import {leaseIdText, parseLeaseId, pause, untilInterrupted, withEtcd} from '../../cli/coord.js'
import {keepAliveOnce} from '../../cli/keep_alive.js'
import {emitLease, keepAliveView} from '../../cli/lease_output.js'
import {writeOutFlag, writeRaw} from '../../cli/output.js'
import type {LeaseKeepAliveResponse} from '../../generated/etcd/etcdserverpb/lease.js'
import type {EtcdClient} from '../../client/concurrency/index.js'

/** What `raftctl lease keep-alive` prints with --json: one object per renewal (with --once, one). */
export interface KeepAliveResult {
  readonly id: string
  /** The TTL the lease was renewed to, in seconds. */
  readonly ttl: number
}

/** Delay before a keep-alive that failed is sent again. */
const RETRY_MS = 500

export default class LeaseKeepAlive extends BaseCommand<typeof LeaseKeepAlive> {
  static override summary = 'Keep a lease alive until Ctrl-C (or renew it once with --once).'
  static override description = [
    'Renews the lease to its full TTL now and then every third of its TTL, printing each renewal as etcdctl does',
    '("lease <id> keepalived with TTL(60)"). Ends with exit code 0 at Ctrl-C (SIGINT) or SIGTERM, leaving the lease to',
    'expire after its TTL; fails when the lease no longer exists, or when no renewal succeeded for a whole TTL (the lease may',
    'then have expired). Output (-w): simple, json (etcdctl\'s JSON, one object per renewal), fields, or a table;',
    '--json prints one raftctl object per renewal and line.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> lease keep-alive 694d77aa9e38260f',
    '<%= config.bin %> lease keep-alive 694d77aa9e38260f --once',
  ]

  static override args = {
    id: textArg({description: 'The lease id in hex, as `lease grant` and `lease list` print it.', required: true}),
  }

  static override flags = {
    once: Flags.boolean({summary: 'Renew once and exit.'}),
    ...writeOutFlag,
  }

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(LeaseKeepAlive)
    const id = parseLeaseId(args.id)
    const format = this.outputFormat('simple')
    const print = (res: LeaseKeepAliveResponse): void => {
      if (format === 'result') writeRaw([`${JSON.stringify({id: leaseIdText(id), ttl: res.TTL} satisfies KeepAliveResult)}\n`])
      else emitLease(format, keepAliveView, res)
    }
    await withEtcd(this.endpoints, this.timeoutMs, async (client) => {
      if (flags.once) {
        print(checkAlive(id, await keepAliveOnce(client, id, this.timeoutMs)))
        return
      }
      await untilInterrupted((signal) => keepRenewing(client, id, this.timeoutMs, signal, print))
    })
  }
}

/** The answer, or the error of a lease that no longer exists. */
function checkAlive(id: bigint, res: LeaseKeepAliveResponse): LeaseKeepAliveResponse {
  if (res.TTL <= 0) throw Object.assign(new Error(`lease ${leaseIdText(id)} expired or was revoked`), {code: 'NOT_FOUND'})
  return res
}

/**
 * Renews `id` every third of its TTL until `signal` fires. A failed renewal is retried every
 * RETRY_MS; when none succeeded for a whole TTL (counted from when the last good one was sent)
 * it fails, since the lease may have expired.
 */
async function keepRenewing(client: EtcdClient, id: bigint, timeoutMs: number, signal: AbortSignal,
  print: (res: LeaseKeepAliveResponse) => void): Promise<void> {
  let deadline = Number.POSITIVE_INFINITY
  let lastError = ''
  while (!signal.aborted) {
    const sentAt = Date.now()
    let wait = RETRY_MS
    try {
      const res = checkAlive(id, await keepAliveOnce(client, id, Math.min(timeoutMs, deadline - sentAt)))
      print(res)
      deadline = sentAt + res.TTL * 1000
      wait = (res.TTL * 1000) / 3
    } catch (err) {
      if ((err as {code?: unknown}).code === 'NOT_FOUND') throw err
      lastError = (err as Error).message
      if (Date.now() + RETRY_MS >= deadline) throw new Error(`lease ${leaseIdText(id)}: no keep-alive succeeded within its TTL (last error: ${lastError}); it may have expired`)
      if (deadline === Number.POSITIVE_INFINITY) throw err
    }
    await pause(wait, signal)
  }
}
