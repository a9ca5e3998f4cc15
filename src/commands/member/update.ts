import {Flags} from '@oclif/core'
import {textArg} from '../../cli/args.js'
import {BaseCommand} from '../../cli/base.js'
import {withClient} from '../../cli/kv_client.js'
import {parseNodeId, parseUrl, UsageError} from '../../cli/member_args.js'
import {type MemberJson, type MembershipJson, memberToJson, membershipToJson} from '../../cli/member_format.js'
import {requireMember} from '../../cli/member_ops.js'

/** What `raftctl member update` prints with --json. */
export interface MemberUpdateResult extends MembershipJson {
  readonly member: MemberJson
}

export default class MemberUpdate extends BaseCommand<typeof MemberUpdate> {
  static override summary = 'Change a member\'s peer URL and/or client URL; its role stays the same.'
  static override description = [
    'Use it when a node moves to another address: update the URL, then restart the node listening there.',
    'A peer URL already used by another member is refused.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> member update 2 --peer-url 10.0.0.12:2380',
    '<%= config.bin %> member update 2 --client-url 10.0.0.12:2379 --json',
  ]

  static override args = {
    id: textArg({description: 'The member\'s node id.', required: true}),
  }

  static override flags = {
    'peer-url': Flags.string({summary: 'The new host:port where the other members reach it.'}),
    'client-url': Flags.string({summary: 'The new host:port where clients reach it.'}),
  }

  public async run(): Promise<MemberUpdateResult> {
    const {args, flags} = await this.parse(MemberUpdate)
    const id = parseNodeId('member id', args.id)
    const peer = flags['peer-url'] === undefined ? undefined : parseUrl('--peer-url', flags['peer-url'])
    const client = flags['client-url'] === undefined ? undefined : parseUrl('--client-url', flags['client-url'])
    if (peer === undefined && client === undefined) throw new UsageError('nothing to update; give --peer-url and/or --client-url')
    return withClient(this.endpoints, this.timeoutMs, async (c) => {
      const res = await c.memberUpdate(id, {peerUrls: peer === undefined ? [] : [peer], clientUrls: client === undefined ? [] : [client]})
      const out = membershipToJson(res)
      const member = res.member === undefined ? requireMember(out, id) : memberToJson(res.member)
      this.log(`Updated node ${id}: peer URL ${member.peerUrls.join(',') || '-'}, client URL ${member.clientUrls.join(',') || '-'}.`)
      return {...out, member}
    })
  }
}
