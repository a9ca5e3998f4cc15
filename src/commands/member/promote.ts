import {Flags} from '@oclif/core'
import {textArg} from '../../cli/args.js'
import {BaseCommand, parseDuration} from '../../cli/base.js'
import {withClient} from '../../cli/kv_client.js'
import {parseNodeId} from '../../cli/member_args.js'
import type {MemberJson, MembershipJson} from '../../cli/member_format.js'
import {type CatchUp, listMembers, requireMember, waitCaughtUp} from '../../cli/member_ops.js'
import {confirmRisky} from '../../cli/prompt.js'

/** What `raftctl member promote` prints with --json. */
export interface MemberPromoteResult extends MembershipJson {
  readonly member: MemberJson
  /** False when the member already was a voter (nothing changed). */
  readonly promoted: boolean
  /** With --wait: how far the learner had caught up when the wait ended. */
  readonly catchUp?: CatchUp
}

export default class MemberPromote extends BaseCommand<typeof MemberPromote> {
  static override summary = 'Promote a learner to voter.'
  static override description = [
    'The server refuses unless the learner\'s match index is at least 90% of the leader\'s last index (the error says',
    'how far behind it is). With --wait the command first waits, showing progress, until the leader replicates to the',
    'learner and it has reached that 90%, then promotes it. Promoting a voter succeeds and changes nothing.',
    '--force promotes a learner that has not caught up; that is risky (the quorum may then wait on it) and asks for',
    'confirmation (--yes skips; without a terminal --yes is required).',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> member promote 4',
    '<%= config.bin %> member promote 4 --wait --wait-timeout 10m',
    '<%= config.bin %> member promote 4 --json',
  ]

  static override args = {
    id: textArg({description: 'The learner\'s node id.', required: true}),
  }

  static override flags = {
    wait: Flags.boolean({summary: 'Wait, showing progress, until the learner is ready, then promote it.'}),
    'wait-timeout': Flags.string({summary: 'How long --wait may take (e.g. 90s, 10m).', default: '5m'}),
    force: Flags.boolean({summary: 'Promote even if the learner has not caught up (risky).'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation of --force.'}),
  }

  public async run(): Promise<MemberPromoteResult> {
    const {args, flags} = await this.parse(MemberPromote)
    const id = parseNodeId('member id', args.id)
    const waitMs = parseDuration(flags['wait-timeout'], '--wait-timeout')
    return withClient(this.endpoints, this.timeoutMs, async (c) => {
      const before = requireMember(await listMembers(c), id)
      if (flags.force && before.role !== 'voter') {
        await confirmRisky(`force-promoting node ${id}`,
          `Promote node ${id} even if it has not caught up? The quorum may have to wait for it.`, flags.yes)
      }
      const catchUp = flags.wait && before.role !== 'voter' ? await waitCaughtUp(c, id, {waitMs, quiet: this.jsonEnabled()}) : undefined
      // etcd refuses to promote a voter; raftctl's command says that nothing changed instead.
      const promoted = before.role !== 'voter'
      if (promoted) await c.memberPromote(id, {force: flags.force})
      const out = await listMembers(c)
      const member = requireMember(out, id)
      this.log(promoted ? `Promoted node ${id} to voter. Configuration: ${out.config.text}`
        : `Node ${id} is already a voter; nothing changed. Configuration: ${out.config.text}`)
      return {...out, member, promoted, ...(catchUp === undefined ? {} : {catchUp})}
    })
  }
}
