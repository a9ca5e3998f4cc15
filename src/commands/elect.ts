import {Flags} from '@oclif/core'
import {textArg} from '../cli/args.js'
import {BaseCommand} from '../cli/base.js'
import {aborted, untilInterrupted, withEtcd} from '../cli/coord.js'
import {sessionLost} from '../cli/hold.js'
import {UsageError} from '../cli/member_args.js'
import {writeRaw} from '../cli/output.js'
import {printable} from '../cli/printable.js'
import {Election, type EtcdClient, leaseHex, Session, type SessionEnd} from '../client/concurrency/index.js'

/** What `raftctl elect` prints with --json: once when elected, or (with --listen) once per leader change. */
export interface LeaderJson {
  readonly name: string
  /** The leader key, `<name>/<lease id in hex>`. */
  readonly key: string
  /** The leader's proposal (its key's value), as UTF-8 text. */
  readonly proposal: string
  /** The create revision of the leader key: the fencing token of this leadership. */
  readonly revision: number
}

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8')

export default class Elect extends BaseCommand<typeof Elect> {
  static override summary = 'Campaign to lead an election and hold leadership until Ctrl-C, or print each leader with --listen.'
  static override description = [
    'Campaigns in the election NAME with PROPOSAL as etcd\'s election recipe does (the key <name>/<lease id in hex>, put',
    'with a session lease of --ttl seconds), so it takes part in the same elections as `etcdctl elect` and etcd\'s Election',
    'service; campaigners are elected in arrival order. While waiting it prints "waiting to lead NAME (leader: PROPOSAL)" on',
    'stderr. Once elected it prints the leader key and the proposal (one line each, as etcdctl) and holds leadership until',
    'Ctrl-C (SIGINT) or SIGTERM, then resigns. If the session is lost (its lease expired or could not be confirmed within',
    'the TTL) it says so at once and exits with code 1. With --listen it campaigns not, and prints the current leader\'s key and',
    'proposal, then those of each new leader or proposal as it changes, until Ctrl-C.',
    '--json prints one JSON object per line instead.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> elect scheduler "$(hostname)"',
    '<%= config.bin %> elect scheduler --listen',
    '<%= config.bin %> elect scheduler node-1 --ttl 5 --json',
  ]

  static override args = {
    name: textArg({description: 'The election name (the prefix of its keys).', required: true}),
    proposal: textArg({description: 'The value to lead with (what --listen and `elect --listen` show).'}),
  }

  static override flags = {
    listen: Flags.boolean({char: 'l', summary: 'Do not campaign: print each leader\'s key and proposal as it changes.'}),
    ttl: Flags.integer({summary: 'TTL of the session lease in seconds: how long leadership outlives a raftctl that died.', default: 10, min: 1}),
  }

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(Elect)
    if (args.name === '') throw new UsageError('the election name is empty; give a non-empty name')
    if (flags.listen && args.proposal !== undefined) throw new UsageError('--listen does not campaign; give no proposal with it')
    if (!flags.listen && args.proposal === undefined) throw new UsageError('give a proposal to campaign with, or --listen to print the leader')
    await withEtcd(this.endpoints, this.timeoutMs, (client) => untilInterrupted((signal) => flags.listen
      ? this.listen(client, args.name, signal)
      : this.campaign(client, args.name, args.proposal!, flags.ttl, signal)))
  }

  private async campaign(client: EtcdClient, name: string, proposal: string, ttl: number, signal: AbortSignal): Promise<void> {
    const session = await Session.create(client, {ttl, signal})
    const election = Election.create(session, name)
    try {
      const lost = new AbortController()
      session.onEnd((end) => lost.abort(new Error(end.message)))
      let elected = false
      const campaigning = election.campaign(proposal, AbortSignal.any([signal, lost.signal])).then(() => { elected = true })
      void election.leader(signal).then((res) => {
        const kv = res.kvs[0]
        if (!elected && kv !== undefined && text(kv.key) !== `${name}/${leaseHex(session.lease)}`) {
          process.stderr.write(`waiting to lead ${printable(name).text} (leader: ${printable(kv.value).text})\n`)
        }
      }, () => undefined)
      try {
        await campaigning
      } catch (err) {
        if (signal.aborted) return
        const end = session.ended
        if (end !== undefined && end.reason !== 'closed') throw new Error(`session lost while campaigning in ${printable(name).text}: ${end.message}`)
        throw err
      }
      this.print({name, key: text(election.key), proposal, revision: election.rev})
      const end = await Promise.race([aborted(signal).then(() => undefined), sessionLost(session)])
      if (end !== undefined) this.lost(name, end)
    } finally {
      if (session.ended === undefined) await election.resign(AbortSignal.timeout(this.timeoutMs)).catch(() => undefined)
      await session.close(AbortSignal.timeout(this.timeoutMs)).catch(() => undefined)
    }
  }

  private async listen(client: EtcdClient, name: string, signal: AbortSignal): Promise<void> {
    const election = Election.create({client, lease: 0n}, name)
    for await (const obs of election.observe(signal)) {
      this.print({name, key: text(obs.kv.key), proposal: text(obs.kv.value), revision: obs.kv.createRevision})
    }
  }

  /** The leader as etcdctl prints it (its key, then its proposal), or one JSON line. */
  private print(l: LeaderJson): void {
    writeRaw([this.jsonEnabled() ? `${JSON.stringify(l)}\n` : `${l.key}\n${l.proposal}\n`])
  }

  /** Reports lost leadership at once, as one line, and ends with exit code 1. */
  private lost(name: string, end: SessionEnd): void {
    const line = `lost leadership of ${printable(name).text}: ${end.message}`
    if (this.jsonEnabled()) this.logJson({error: {message: line, code: 'LEADERSHIP_LOST'}})
    else process.stderr.write(`Error: ${line}\n`)
    process.exitCode = 1
  }
}
