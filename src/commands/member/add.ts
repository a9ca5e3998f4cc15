import {Flags} from '@oclif/core'
import {textArg} from '../../cli/args.js'
import type {RaftctlClient} from '../../client/index.js'
import {BaseCommand, parseDuration} from '../../cli/base.js'
import {parseNodeId, parseUrl, UsageError} from '../../cli/member_args.js'
import {commandLine} from '../../cli/invocation.js'
import {withClient} from '../../cli/kv_client.js'
import {type MemberJson, type MembershipJson, startArgs} from '../../cli/member_format.js'
import {type CatchUp, listMembers, quorumWarning, requireMember, waitCaughtUp} from '../../cli/member_ops.js'
import {askYesNo, confirmRisky, isInteractive} from '../../cli/prompt.js'

/** What `raftctl member add` prints with --json. */
export interface MemberAddResult extends MembershipJson {
  /** The added member (after the promotion, when it was promoted). */
  readonly member: MemberJson
  /** The command that starts the new node, as one shell line (run as printed) and as raftctl's arguments. */
  readonly startCommand: string
  readonly startArgs: string[]
  /** With --wait: how far the learner had caught up when the wait ended. */
  readonly catchUp?: CatchUp
  readonly promoted: boolean
}

export default class MemberAdd extends BaseCommand<typeof MemberAdd> {
  static override summary = 'Add a member (as a learner: the safe way) and print the command that starts it.'
  static override description = [
    'Adds node ID with its peer URL and prints a ready `raftctl server start ... --initial-cluster-state existing` line',
    'built from the resulting member list; run it on the new machine. With --learner the node receives the log but does',
    'not vote. With --wait, after printing the line, it shows the learner\'s match index against the leader\'s last index',
    'until the learner is ready: the leader replicates to it and it has at least 90% of the leader\'s log (the threshold',
    'the server applies to promotions). Then it asks whether to promote it (on a terminal), promotes it (--promote) or',
    'says it is ready. Adding a voter directly raises the quorum before the node runs: it warns and asks for',
    'confirmation (--yes skips; without a terminal --yes is required).',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> member add 4 --peer-url 10.0.0.4:2380 --client-url 10.0.0.4:2379 --learner',
    '<%= config.bin %> member add 4 --peer-url 10.0.0.4:2380 --learner --wait --promote',
    '<%= config.bin %> member add 4 --peer-url 10.0.0.4:2380 --yes',
    '<%= config.bin %> member add 4 --peer-url 10.0.0.4:2380 --learner --json',
  ]

  static override args = {
    id: textArg({description: 'The new node\'s id: a positive integer not used by any member.', required: true}),
  }

  static override flags = {
    'peer-url': Flags.string({summary: 'host:port where the other members reach the new node.', required: true}),
    'client-url': Flags.string({summary: 'host:port where clients will reach it: its --listen-client in the start line (the node publishes it when it starts).'}),
    name: Flags.string({summary: 'The node\'s --name in the start line (default node<ID>); the node publishes it when it starts.'}),
    'data-dir': Flags.string({summary: 'The data dir to put in the printed start line (default ./raftctl-data-<ID>).'}),
    learner: Flags.boolean({summary: 'Add it as a learner: it catches up without counting toward quorum.'}),
    wait: Flags.boolean({summary: 'With --learner: wait, showing progress, until the learner is ready to promote.'}),
    promote: Flags.boolean({summary: 'With --learner: wait until it is ready, then promote it without asking.'}),
    'wait-timeout': Flags.string({summary: 'How long --wait may take (e.g. 90s, 10m).', default: '5m'}),
    force: Flags.boolean({summary: 'Add a voter even when the reachable voters could not form the new quorum (risky).'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation of a risky add.'}),
  }

  public async run(): Promise<MemberAddResult> {
    const {args, flags} = await this.parse(MemberAdd)
    const id = parseNodeId('member id', args.id)
    const peerUrl = parseUrl('--peer-url', flags['peer-url'])
    const clientUrl = flags['client-url'] === undefined ? undefined : parseUrl('--client-url', flags['client-url'])
    const waitMs = parseDuration(flags['wait-timeout'], '--wait-timeout')
    const wait = flags.wait || flags.promote
    if (wait && !flags.learner) throw new UsageError('--wait and --promote apply to a learner; add --learner')
    return withClient(this.endpoints, this.timeoutMs, async (c) => {
      if (!flags.learner) {
        const warning = quorumWarning(await listMembers(c), id)
        await confirmRisky(`adding voter ${id} directly`, `${warning}. Add it as a voter anyway?`, flags.yes)
        if (flags.yes) process.stderr.write(`Warning: ${warning}\n`)
      }
      await c.memberAdd({id, peerUrls: [peerUrl], isLearner: flags.learner, force: flags.force})
      const out = await listMembers(c)
      const name = flags.name ?? `node${id}`
      const args = startArgs(out.members, id, {dataDir: flags['data-dir'] ?? `./raftctl-data-${id}`, clientUrl, name})
      const line = commandLine(this.config, args)
      const added = requireMember(out, id)
      this.log(`Added node ${id} (${name}) as a ${flags.learner ? 'learner' : 'voter'} with peer URL ${peerUrl}.`)
      this.log(`Configuration: ${out.config.text}`)
      this.log('Start it with:')
      this.log(`  ${line}`)
      if (clientUrl === undefined) this.log('(it serves clients on 127.0.0.1:2379 unless you add --listen-client host:port)')
      const base = {...out, member: added, startCommand: line, startArgs: args, promoted: false}
      return wait ? this.waitThenPromote(c, id, base, flags.promote, waitMs) : base
    })
  }

  /**
   * Waits until learner `id` is ready (see member_ops.ts), then promotes it when --promote was
   * given or the operator says yes on a terminal; otherwise says how to promote it later.
   */
  private async waitThenPromote(c: RaftctlClient, id: number, added: MemberAddResult, promoteFlag: boolean, waitMs: number): Promise<MemberAddResult> {
    const catchUp = await waitCaughtUp(c, id, {waitMs, quiet: this.jsonEnabled()})
    this.log(`Node ${id} is ready to promote: match index ${catchUp.matchIndex} of ${catchUp.leaderLastIndex} (${catchUp.percent}%).`)
    const promote = promoteFlag || (isInteractive() && !this.jsonEnabled() && await askYesNo(`Promote node ${id} to voter now?`, false))
    if (!promote) {
      this.log(`Promote it with: ${commandLine(this.config, ['member', 'promote', String(id)])}`)
      return {...added, catchUp}
    }
    await c.memberPromote(id)
    const out = await listMembers(c)
    this.log(`Promoted node ${id} to voter. Configuration: ${out.config.text}`)
    return {...added, ...out, member: requireMember(out, id), catchUp, promoted: true}
  }
}
