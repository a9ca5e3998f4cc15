import {Flags} from '@oclif/core'
import {textArg} from '../../cli/args.js'
import {BaseCommand} from '../../cli/base.js'
import {withClient} from '../../cli/kv_client.js'
import {parseNodeId, parseUrl, UsageError} from '../../cli/member_args.js'
import type {MemberJson, MembershipJson} from '../../cli/member_format.js'
import {listMembers, requireMember} from '../../cli/member_ops.js'

/** What `raftctl member update` prints with --json. */
export interface MemberUpdateResult extends MembershipJson {
  readonly member: MemberJson
}

export default class MemberUpdate extends BaseCommand<typeof MemberUpdate> {
  static override summary = 'Change a member\'s peer URL; its role stays the same.'
  static override description = [
    'Use it when a node moves to another address: update the URL, then restart the node listening there.',
    'A peer URL already used by another member is refused. A member\'s name and client URL are what the node itself',
    'publishes when it starts (server start --name, --advertise-client), so restarting it with new values changes them.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> member update 2 --peer-url 10.0.0.12:2380',
    '<%= config.bin %> member update 2 --peer-url 10.0.0.12:2380 --json',
  ]

  static override args = {
    id: textArg({description: 'The member\'s node id.', required: true}),
  }

  static override flags = {
    'peer-url': Flags.string({summary: 'The new host:port where the other members reach it.'}),
  }

  public async run(): Promise<MemberUpdateResult> {
    const {args, flags} = await this.parse(MemberUpdate)
    const id = parseNodeId('member id', args.id)
    if (flags['peer-url'] === undefined) {
      throw new UsageError('nothing to update; give --peer-url (a node publishes its client URL itself when it starts, from server start --advertise-client)')
    }
    const peer = parseUrl('--peer-url', flags['peer-url'])
    return withClient(this.endpoints, this.timeoutMs, async (c) => {
      await c.memberUpdate(id, [peer])
      const out = await listMembers(c)
      const member = requireMember(out, id)
      this.log(`Updated node ${id}: peer URL ${member.peerUrls.join(',') || '-'}, client URL ${member.clientUrls.join(',') || '-'}.`)
      return {...out, member}
    })
  }
}
