import {BaseCommand} from '../../cli/base.js'
import {withClient} from '../../cli/kv_client.js'
import {type MembershipJson, membershipToJson} from '../../cli/member_format.js'
import {listMembers} from '../../cli/member_ops.js'

/** What `raftctl member leave-joint` prints with --json. */
export interface LeaveJointResult extends MembershipJson {
  /** The joint configuration that was left. */
  readonly previous: string
}

export default class MemberLeaveJoint extends BaseCommand<typeof MemberLeaveJoint> {
  static override summary = 'Leave a joint configuration entered with `member change --explicit`.'
  static override description = [
    'After the change, only the incoming voter set decides; outgoing voters are gone and voters in learners_next become',
    'learners. When the configuration is not joint the command fails and says so.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> member leave-joint',
    '<%= config.bin %> member leave-joint --json',
  ]

  public async run(): Promise<LeaveJointResult> {
    await this.parse(MemberLeaveJoint)
    return withClient(this.endpoints, this.timeoutMs, async (c) => {
      const before = await listMembers(c)
      // The leader decides whether the configuration is joint, and says so when it is not.
      const out = membershipToJson(await c.leaveJoint())
      this.log(`Left the joint configuration ${before.config.text}. Configuration: ${out.config.text}`)
      return {...out, previous: before.config.text}
    })
  }
}
