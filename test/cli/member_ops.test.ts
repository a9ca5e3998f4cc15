/**
 * listMembers (src/cli/member_ops.ts) over a scripted client: the member list comes from the
 * leader whenever one of --endpoints is the leader, even before the leader has published its
 * client URL (the first seconds after a cluster starts), so `member list` shows replication
 * progress; and it never goes looking when the answer already has progress or the leader is
 * reachable through its published URL.
 */
import {expect} from 'chai'
import type {RaftctlClient} from '../../src/client/index.js'
import {listMembers} from '../../src/cli/member_ops.js'
import {type MemberListResponse, type MemberStatus, MemberStatus_ProgressState as P, MemberStatus_Role as R} from '../../src/generated/raftctl/v1/cluster.js'

/** A member list as node `from` answers it: only the leader (2) knows progress. */
function answer(from: number, clientUrls: (id: number) => string[]): MemberListResponse {
  const members = [1, 2, 3].map((id): MemberStatus => ({
    member: {id, name: `node${id}`, peerUrls: [`127.0.0.1:${2380 + id}`], clientUrls: clientUrls(id)},
    role: R.VOTER, isLeader: id === 2,
    matchIndex: from === 2 ? 7 : 0, nextIndex: from === 2 ? 8 : 0, lag: 0,
    progressState: from === 2 ? P.REPLICATE : P.PROGRESS_UNKNOWN, recentActive: from === 2,
  }))
  return {header: {clusterId: 9, memberId: from, revision: 1, raftTerm: 2}, members,
    confState: {voters: [1, 2, 3], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false}}
}

/** A client whose endpoints e1..e3 are nodes 1..3; the default call is answered by node 1. */
function fakeClient(clientUrls: (id: number) => string[], down: readonly string[] = []): {client: RaftctlClient, asked: string[]} {
  const asked: string[] = []
  const endpoints = ['e1', 'e2', 'e3']
  const client = {
    endpoints,
    async memberList(opts: {endpoint?: string} = {}): Promise<MemberListResponse> {
      asked.push(opts.endpoint ?? 'default')
      if (opts.endpoint === undefined) return answer(1, clientUrls)
      if (down.includes(opts.endpoint)) throw new Error(`cannot reach ${opts.endpoint}`)
      return answer(endpoints.indexOf(opts.endpoint) + 1, clientUrls)
    },
  }
  return {client: client as unknown as RaftctlClient, asked}
}

describe('cli/member_ops listMembers', () => {
  it('asks each endpoint for the leader\'s own list while the leader has published no client URL', async () => {
    const {client, asked} = fakeClient(() => [])
    const out = await listMembers(client)
    expect(asked).to.deep.equal(['default', 'e1', 'e2'])
    expect(out.members.map((m) => [m.id, m.progressState, m.matchIndex])).to.deep.equal([[1, 'replicate', 7], [2, 'replicate', 7], [3, 'replicate', 7]])
  })

  it('skips endpoints that do not answer and falls back to the first answer when none is the leader', async () => {
    const {client, asked} = fakeClient(() => [], ['e2'])
    const out = await listMembers(client)
    expect(asked).to.deep.equal(['default', 'e1', 'e2', 'e3'])
    expect(out.members.every((m) => m.progressState === 'unknown')).to.equal(true)
  })

  it('does not look further when the leader published a URL (the client already asked it there)', async () => {
    const {client, asked} = fakeClient((id) => [`127.0.0.1:${2370 + id}`])
    const out = await listMembers(client)
    expect(asked).to.deep.equal(['default'])
    expect(out.members[0].progressState).to.equal('unknown')
  })
})
