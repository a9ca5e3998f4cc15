import type {RaftctlClient} from '../../client/index.js'
import {BaseCommand} from '../../cli/base.js'
import type {LeaveJointResponse} from '../../generated/raftctl/v1/cluster.js'
import {type MembershipJson, membershipToJson} from '../../cli/member_format.js'
import {listMembers, withCluster} from '../../cli/member_ops.js'

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
    return withCluster(this.endpoints, this.timeoutMs, async (c) => {
      const before = await listMembers(c)
      const out = membershipToJson(await leaveOrExplain(c))
      this.log(`Left the joint configuration ${before.config.text}. Configuration: ${out.config.text}`)
      return {...out, previous: before.config.text}
    })
  }
}

/**
 * Asks the leader to leave the joint configuration. The leader decides whether the configuration
 * is joint (a list read first may be a follower's, a little behind, and a ReadIndex round would
 * wait forever in a joint configuration whose only voter is the leader and whose other members
 * do not answer); when it is not, the refusal is said with the configuration it has.
 */
async function leaveOrExplain(c: RaftctlClient): Promise<LeaveJointResponse> {
  try {
    return await c.leaveJoint()
  } catch (err) {
    if (!(err instanceof Error) || !/configuration is not joint/.test(err.message)) throw err
    const now = await listMembers(c)
    throw new Error(`the configuration is not joint (${now.config.text}); there is nothing to leave`)
  }
}
