import {Flags} from '@oclif/core'
import type {MemberChangeSpec} from '../../client/index.js'
import {BaseCommand} from '../../cli/base.js'
import {parseChangeFlags, UsageError} from '../../cli/member_args.js'
import {commandLine} from '../../cli/invocation.js'
import {withClient} from '../../cli/kv_client.js'
import {type MembershipJson, membershipToJson, startArgs} from '../../cli/member_format.js'
import {listMembers} from '../../cli/member_ops.js'
import {confirmRisky} from '../../cli/prompt.js'

/** What `raftctl member change` prints with --json. */
export interface MemberChangeResult extends MembershipJson {
  readonly changes: MemberChangeSpec[]
  readonly transition: 'auto' | 'explicit'
  /** How to start each member this change added (ids that were not members before). */
  readonly startCommands: {id: number, startCommand: string}[]
}

const many = (summary: string) => Flags.string({summary, multiple: true})

export default class MemberChange extends BaseCommand<typeof MemberChange> {
  static override summary = 'Apply several membership changes in one joint-consensus step (e.g. replace a voter).'
  static override description = [
    'All changes are applied together through joint consensus (Raft thesis §4.3): while joint, decisions need a majority',
    'of both the old and the new voter sets. --add-voter and --add-learner take ID=PEER_URL for a new member (named',
    'node<ID>; start it with --initial-cluster-state existing) or just ID for an existing member (--add-voter 4',
    'promotes learner 4, subject to the 90% catch-up rule). --demote turns a voter into a learner (through',
    'learners_next while joint); --remove removes a member. Each flag may repeat; each node may appear once.',
    'By default the leader leaves the joint configuration by itself (autoleave); with --explicit it stays joint until',
    '`raftctl member leave-joint`. Removing or demoting a voter, adding a new member directly as a voter (ID=PEER_URL',
    'with --add-voter), and --force ask for confirmation (--yes skips; without a terminal --yes is required).',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> member change --add-voter 4=10.0.0.4:2380 --remove 3 --yes',
    '<%= config.bin %> member change --add-voter 4 --demote 3 --explicit --yes',
    '<%= config.bin %> member change --add-learner 5=10.0.0.5:2380 --add-learner 6=10.0.0.6:2380 --json',
  ]

  static override flags = {
    'add-voter': many('A voter to add: ID=PEER_URL for a new member, ID to promote an existing learner.'),
    'add-learner': many('A learner to add: ID=PEER_URL.'),
    demote: many('A voter to turn into a learner.'),
    remove: many('A member to remove.'),
    explicit: Flags.boolean({summary: 'Stay in the joint configuration until `raftctl member leave-joint`.'}),
    force: Flags.boolean({summary: 'Skip the reachable-quorum and learner catch-up checks (risky).'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation.'}),
  }

  public async run(): Promise<MemberChangeResult> {
    const {flags} = await this.parse(MemberChange)
    const changes = parseChangeFlags(flags)
    return withClient(this.endpoints, this.timeoutMs, async (c) => {
      const list = await listMembers(c)
      const known = new Set(list.members.filter((m) => m.role !== 'none').map((m) => m.id))
      for (const ch of changes) {
        if ((ch.kind === 'add-voter' || ch.kind === 'add-learner') && !known.has(ch.id) && ch.peerUrls === undefined) {
          throw new UsageError(`--${ch.kind} ${ch.id}: node ${ch.id} is not a member; give its peer URL as ${ch.id}=host:port`)
        }
      }
      const what = riskyParts(changes, list.config.voters, known, flags.force)
      if (what.length > 0) await confirmRisky('this membership change', `This change will ${what.join(', ')}. Proceed?`, flags.yes)
      const transition = flags.explicit ? 'explicit' : 'auto'
      const out = membershipToJson(await c.memberChange(changes, {transition, force: flags.force}))
      this.log(`Applied ${changes.map(describe).join(', ')}. Configuration: ${out.config.text}`)
      if (out.config.joint && !out.config.autoLeave) {
        this.log(`The configuration is joint; leave it with: ${commandLine(this.config, ['member', 'leave-joint'])}`)
      }
      const startCommands = changes.filter((ch) => ch.peerUrls !== undefined && !known.has(ch.id)).map((ch) => ({
        id: ch.id, startCommand: commandLine(this.config, startArgs(out.members, ch.id, {dataDir: `./raftctl-data-${ch.id}`, name: `node${ch.id}`})),
      }))
      for (const s of startCommands) this.log(`Start node ${s.id} with:\n  ${s.startCommand}`)
      return {...out, changes, transition, startCommands}
    })
  }
}

/**
 * What makes a change risky, in words: removing or demoting a voter shrinks the voter set, a
 * new member added straight as a voter counts toward the quorum before it has started (the
 * same risk `member add` without --learner warns about), and --force skips the server's checks.
 */
function riskyParts(changes: readonly MemberChangeSpec[], voters: readonly number[], known: ReadonlySet<number>, force: boolean): string[] {
  const parts = changes.flatMap((ch) => {
    if ((ch.kind === 'remove' || ch.kind === 'demote') && voters.includes(ch.id)) return [`${ch.kind} voter ${ch.id}`]
    if (ch.kind === 'add-voter' && !known.has(ch.id)) {
      return [`add node ${ch.id} directly as a voter (the quorum counts it before it has started and caught up; ` +
        `the safe way is --add-learner, then --add-voter ${ch.id})`]
    }
    return []
  })
  return force ? [...parts, 'skip the safety checks (--force)'] : parts
}

function describe(ch: MemberChangeSpec): string {
  return `${ch.kind} ${ch.id}${ch.peerUrls === undefined ? '' : ` (${ch.peerUrls.join(',')})`}`
}
