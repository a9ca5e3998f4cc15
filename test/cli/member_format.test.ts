/**
 * The pure parts of the membership commands: argument parsing, the etcd-style configuration
 * line, the JSON form of the member list, the start line, and the readiness rule.
 */
import {expect} from 'chai'
import fc from 'fast-check'
import {parseAddSpec, parseChangeFlags, parseNodeId, parseUrl} from '../../src/cli/member_args.js'
import {commandLine} from '../../src/cli/invocation.js'
import {configToJson, formatConfig, type MemberJson, memberToJson, startArgs} from '../../src/cli/member_format.js'
import {catchUpOf, quorumWarning} from '../../src/cli/member_ops.js'
import {MemberStatus_ProgressState, MemberStatus_Role} from '../../src/generated/raftctl/v1/raftctl.js'

const member = (id: number, over: Partial<MemberJson> = {}): MemberJson => ({
  id, name: `node${id}`, peerUrls: [`127.0.0.1:${2380 + id}`], clientUrls: [`127.0.0.1:${2370 + id}`], role: 'voter',
  isLeader: false, matchIndex: 10, nextIndex: 11, lag: 0, progressState: 'replicate', recentActive: true, ...over,
})

describe('cli/member_args', () => {
  it('accepts positive safe integers as node ids and refuses everything else by name', () => {
    expect(parseNodeId('member id', '4')).to.equal(4)
    expect(parseNodeId('member id', ' 9007199254740991 ')).to.equal(Number.MAX_SAFE_INTEGER)
    for (const bad of ['0', '-1', '1.0', '0x10', '', 'four', '9007199254740992', '1e2']) {
      expect(() => parseNodeId('member id', bad)).to.throw(`member id "${bad}" is not a node id`)
    }
  })

  it('property: any safe positive integer round-trips through its decimal text', () => {
    fc.assert(fc.property(fc.integer({min: 1, max: Number.MAX_SAFE_INTEGER}), (n) => parseNodeId('id', String(n)) === n))
  })

  it('canonicalises URLs and names the flag in errors', () => {
    expect(parseUrl('--peer-url', 'http://10.0.0.4:2380/')).to.equal('10.0.0.4:2380')
    expect(() => parseUrl('--peer-url', '10.0.0.4')).to.throw('--peer-url "10.0.0.4" is not host:port')
  })

  it('parses ID and ID=PEER_URL change specs and refuses empty or duplicate change lists', () => {
    expect(parseAddSpec('add-voter', '4', 'add-voter')).to.deep.equal({kind: 'add-voter', id: 4})
    expect(parseAddSpec('add-learner', '5=127.0.0.1:2480', 'add-learner')).to.deep.equal({kind: 'add-learner', id: 5, peerUrls: ['127.0.0.1:2480']})
    expect(() => parseAddSpec('add-voter', 'x=127.0.0.1:1', 'add-voter')).to.throw('--add-voter "x" is not a node id')
    expect(parseChangeFlags({'add-voter': ['4'], remove: ['3'], demote: ['2']}).map((c) => `${c.kind} ${c.id}`))
      .to.deep.equal(['add-voter 4', 'demote 2', 'remove 3'])
    expect(() => parseChangeFlags({})).to.throw('no change given')
    expect(() => parseChangeFlags({remove: ['3'], demote: ['3']})).to.throw('node 3 appears more than once')
  })
})

describe('cli/member_format', () => {
  it('writes the configuration as etcd does', () => {
    const cs = (o: Partial<Parameters<typeof formatConfig>[0]>) =>
      formatConfig({voters: [], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false, ...o})
    expect(cs({voters: [1, 2, 3]})).to.equal('voters=(1 2 3)')
    expect(cs({voters: [1, 2, 3], votersOutgoing: [1, 2], learners: [4], autoLeave: true})).to.equal('voters=(1 2 3)&&(1 2) learners=(4) autoleave')
    expect(cs({voters: [1, 2], votersOutgoing: [1, 2, 3], learnersNext: [3]})).to.equal('voters=(1 2)&&(1 2 3) learners_next=(3)')
    expect(cs({})).to.equal('voters=()')
  })

  it('sorts the sets and marks a joint configuration', () => {
    const j = configToJson({voters: [3, 1], votersOutgoing: [2, 1], learners: [5, 4], learnersNext: [], autoLeave: true})
    expect(j).to.deep.equal({voters: [1, 3], votersOutgoing: [1, 2], learners: [4, 5], learnersNext: [], autoLeave: true, joint: true,
      text: 'voters=(1 3)&&(1 2) learners=(4 5) autoleave'})
    expect(configToJson(undefined).text).to.equal('voters=()')
  })

  it('names roles and progress states', () => {
    const base = {member: {id: 3, name: 'n3', peerUrls: ['h:1'], clientUrls: [], isLearner: false}, isLeader: true, matchIndex: 7, nextIndex: 8, lag: 2, recentActive: true}
    expect(memberToJson({...base, role: MemberStatus_Role.LEARNER_NEXT, progressState: MemberStatus_ProgressState.SNAPSHOT}))
      .to.deep.equal({id: 3, name: 'n3', peerUrls: ['h:1'], clientUrls: [], role: 'learner-next', isLeader: true, matchIndex: 7,
        nextIndex: 8, lag: 2, progressState: 'snapshot', recentActive: true})
    expect(memberToJson({...base, role: MemberStatus_Role.OUTGOING_VOTER, progressState: MemberStatus_ProgressState.PROGRESS_UNKNOWN}))
      .to.include({role: 'outgoing-voter', progressState: 'unknown'})
    expect(memberToJson({...base, role: MemberStatus_Role.ROLE_UNSPECIFIED, progressState: MemberStatus_ProgressState.PROBE}))
      .to.include({role: 'none', progressState: 'probe'})
  })

  it('builds the start line of a new member from the member list', () => {
    const members = [member(2), member(1), member(4, {name: 'my node', clientUrls: [], role: 'learner'})]
    const args = startArgs(members, 4, {dataDir: '/var/lib/raft ctl'})
    expect(args).to.deep.equal(['server', 'start', '--id', '4', '--name', 'my node', '--data-dir', '/var/lib/raft ctl',
      '--listen-peer', '127.0.0.1:2384', '--initial-cluster', '1=127.0.0.1:2381,2=127.0.0.1:2382,4=127.0.0.1:2384',
      '--initial-cluster-state', 'existing'])
    expect(commandLine({bin: 'raftctl'}, args, {env: {}, script: '/usr/bin/raftctl', cwd: '/'})).to.equal('raftctl server start --id 4 --name \'my node\' --data-dir \'/var/lib/raft ctl\' ' +
      '--listen-peer 127.0.0.1:2384 --initial-cluster 1=127.0.0.1:2381,2=127.0.0.1:2382,4=127.0.0.1:2384 --initial-cluster-state existing')
    expect(startArgs(members, 2, {dataDir: 'd', clientUrl: '10.0.0.2:2379'})).to.include.members(['--listen-client', '10.0.0.2:2379'])
    expect(() => startArgs(members, 9, {dataDir: 'd'})).to.throw('node 9 is not in the member list')
  })
})

describe('cli/member_ops readiness and warnings', () => {
  it('is ready at 90% of the leader\'s last index while replicating, as the server\'s promotion rule', () => {
    expect(catchUpOf(member(4, {role: 'learner', matchIndex: 90, lag: 10}))).to.deep.equal({matchIndex: 90, leaderLastIndex: 100, percent: 90, ready: true})
    expect(catchUpOf(member(4, {role: 'learner', matchIndex: 89, lag: 11}))?.ready).to.equal(false)
    expect(catchUpOf(member(4, {role: 'learner', matchIndex: 95, lag: 5, progressState: 'snapshot'}))?.ready).to.equal(false)
    expect(catchUpOf(member(4, {role: 'learner', matchIndex: 0, lag: 0, progressState: 'probe'}))?.ready).to.equal(false)
    expect(catchUpOf(member(4, {role: 'voter', matchIndex: 0, lag: 50, progressState: 'probe'}))?.ready).to.equal(true)
    expect(catchUpOf(member(4, {progressState: 'unknown'}))).to.equal(undefined)
  })

  it('states the quorum a direct voter add needs and what it costs meanwhile', () => {
    const list = (n: number) => ({members: [], config: configToJson({voters: Array.from({length: n}, (_, i) => i + 1), votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false})})
    expect(quorumWarning(list(3), 4)).to.equal('adding node 4 directly as a voter makes 4 voters needing 3 for a quorum; ' +
      'until it has started and caught up, the cluster tolerates 0 failure(s) instead of 1 (the safe way is --learner, then promote)')
    expect(quorumWarning(list(1), 2)).to.contain('makes 2 voters needing 2 for a quorum; the cluster cannot commit anything until it has started')
  })
})
