/**
 * The cluster-wide view behind `raftctl cluster status` and `raftctl cluster health`: the member
 * list (from any endpoint that answers), then one NodeStatus call (raftctl's extension) to every
 * member's client URL and to every --endpoints entry, matched to members by the id each answer
 * carries. A member that does not answer is reported as unreachable, never as an error of the
 * command; only when no endpoint answers at all does gathering fail. (`endpoint status` shows
 * etcd's Status of each --endpoints entry instead; `cluster health` and `endpoint health` share
 * one health check, src/cli/endpoint.ts.)
 */
import type {Membership, RaftctlClient} from '../client/index.js'
import type {ConfState} from '../generated/eraftpb.js'
import {
  MemberStatus_Role as Role, NodeStatusResponse_RaftState as RaftState, type NodeStatusResponse as StatusResponse,
} from '../generated/raftctl/v1/raftctl.js'
import {describeError} from './errors.js'

/** One member's row. Numbers are 0 and role/name what the member list says when unreachable. */
export interface MemberRow {
  readonly id: number
  readonly name: string
  /** The client endpoint asked (empty when the member published none and no --endpoints entry is it). */
  readonly endpoint: string
  readonly reachable: boolean
  /** leader, follower, candidate, pre-candidate, learner, learner-next, outgoing-voter, or voter/removed when unreachable. */
  readonly role: string
  readonly term: number
  /** The leader this member knows of (0: none). */
  readonly leader: number
  readonly commitIndex: number
  readonly appliedIndex: number
  /** Entries the member has yet to apply compared with the leader's commit index (0 when unknown). */
  readonly lag: number
  readonly dbSize: number
  readonly version: string
  /** Why the member is unreachable, or the problems it reports about itself. */
  readonly errors: readonly string[]
}

export interface ClusterView {
  /** The leader the reachable members agree on (0 when none, they disagree, or it says it is not leading). */
  readonly leader: number
  readonly members: readonly MemberRow[]
  /** The configuration (from the leader's status when reachable, else from the member list). */
  readonly confState: ConfState
}

const RAFT_STATE: Record<number, string> = {
  [RaftState.FOLLOWER]: 'follower', [RaftState.CANDIDATE]: 'candidate', [RaftState.LEADER]: 'leader', [RaftState.PRE_CANDIDATE]: 'pre-candidate',
}
const CONF_ROLE: Record<number, string> = {
  [Role.ROLE_UNSPECIFIED]: 'removed', [Role.VOTER]: 'voter', [Role.LEARNER]: 'learner',
  [Role.LEARNER_NEXT]: 'learner-next', [Role.OUTGOING_VOTER]: 'outgoing-voter',
}

function roleOf(s: StatusResponse): string {
  if (s.role === Role.VOTER) return RAFT_STATE[s.raftState] ?? 'voter'
  return CONF_ROLE[s.role] ?? 'unknown'
}

const EMPTY_CS: ConfState = {voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false}

/** Asks every endpoint once; returns the answers by endpoint and the errors of those that failed. */
async function statuses(client: RaftctlClient, endpoints: readonly string[]): Promise<Map<string, StatusResponse | Error>> {
  const out = new Map<string, StatusResponse | Error>()
  await Promise.all(endpoints.map(async (e) => {
    try {
      out.set(e, await client.status(e))
    } catch (err) {
      out.set(e, err as Error)
    }
  }))
  return out
}

/**
 * The leader the answering members name: members that know none are ignored (they may simply be
 * behind), two different names mean no agreed leader, and a named leader that answers must
 * confirm it still leads (a learner can keep naming a leader that has since stepped down).
 */
function agreedLeader(byId: ReadonlyMap<number, {status: StatusResponse}>): number {
  const named = new Set([...byId.values()].map((b) => b.status.leader).filter((id) => id !== 0))
  if (named.size !== 1) return 0
  const leader = [...named][0]
  const own = byId.get(leader)?.status
  return own === undefined || own.leader === leader ? leader : 0
}

/** Gathers the view; throws only when no endpoint answers at all. */
export async function gatherCluster(client: RaftctlClient): Promise<ClusterView> {
  let list: Membership | undefined
  try {
    list = await client.memberList()
  } catch {
    list = undefined
  }
  const urls = new Map<number, string>()
  for (const m of list?.members ?? []) if (m.member !== undefined && m.member.clientUrls.length > 0) urls.set(m.member.id, m.member.clientUrls[0])
  const answers = await statuses(client, [...new Set([...urls.values(), ...client.endpoints])])
  const clusterId = list?.header === undefined ? undefined : Number(list.header.clusterId)
  for (const [endpoint, a] of answers) {
    const other = a instanceof Error || a.header === undefined ? undefined : Number(a.header.clusterId)
    if (clusterId !== undefined && other !== undefined && other !== clusterId) {
      answers.set(endpoint, new Error(`${endpoint} belongs to cluster ${other}, not to cluster ${clusterId}`))
    }
  }
  const byId = new Map<number, {endpoint: string, status: StatusResponse}>()
  for (const [endpoint, a] of answers) {
    if (a instanceof Error) continue
    if (!byId.has(a.id) || urls.get(a.id) === endpoint) byId.set(a.id, {endpoint, status: a})
  }
  if (byId.size === 0) {
    const first = [...answers.values()].find((a) => a instanceof Error) as Error | undefined
    throw new Error(`no member answers (asked ${[...answers.keys()].join(', ')})${first ? `: ${describeError(first)}` : ''}`)
  }
  const leader = agreedLeader(byId)
  const leaderStatus = byId.get(leader)?.status
  const commit = leaderStatus?.raftCommitIndex ?? Math.max(...[...byId.values()].map((b) => b.status.raftCommitIndex))
  const ids = new Set<number>([...(list?.members ?? []).map((m) => m.member?.id ?? 0).filter((id) => id !== 0), ...byId.keys()])
  const rows = [...ids].sort((a, b) => a - b).map((id): MemberRow => {
    const b = byId.get(id)
    const listed = list?.members.find((m) => m.member?.id === id)
    if (b === undefined) {
      const endpoint = urls.get(id) ?? ''
      const err = answers.get(endpoint)
      return {
        id, name: listed?.member?.name ?? '', endpoint, reachable: false, role: CONF_ROLE[(listed?.role ?? 0) as number] ?? 'unknown',
        term: 0, leader: 0, commitIndex: 0, appliedIndex: 0, lag: 0, dbSize: 0, version: '',
        errors: [err instanceof Error ? describeError(err) : `member ${id} has published no client URL; add it to --endpoints`],
      }
    }
    const s = b.status
    return {
      id, name: s.name, endpoint: b.endpoint, reachable: true, role: roleOf(s), term: s.raftTerm, leader: s.leader,
      commitIndex: s.raftCommitIndex, appliedIndex: s.raftAppliedIndex, lag: Math.max(0, commit - s.raftAppliedIndex),
      dbSize: s.dbSize, version: s.version, errors: s.errors,
    }
  })
  return {leader, members: rows, confState: leaderStatus?.confState ?? list?.confState ?? [...byId.values()][0].status.confState ?? EMPTY_CS}
}

/** Quorum of a voter set: more than half (an empty set needs none). */
export function quorumOf(voters: readonly number[]): number {
  return voters.length === 0 ? 0 : Math.floor(voters.length / 2) + 1
}
