/**
 * The rules of peer_check.ts (issue 11 #9 and #10) on hand-made answers: when a node's peers say
 * it belongs to another cluster or was removed, and when they prove nothing.
 */
import {status} from '@grpc/grpc-js'
import {expect} from 'chai'
import type {IdentifyResponse} from '../../src/generated/raftctl/v1/internal.js'
import {type ConfState, EMPTY_CONF_STATE} from '../../src/raft/index.js'
import {confStateToWire} from '../../src/raftpb/convert.js'
import {sleep} from '../integration/harness.js'
import {MembershipWatch} from '../../src/server/membership_watch.js'
import {
  addedBackByPeer, judgeAnswers, MembershipLostError, type PeerAnswer, peerAddresses, removedLocally, type SelfView,
} from '../../src/server/peer_check.js'
import {createLogger} from '../../src/server/logger.js'

const cs = (voters: number[], more: Partial<ConfState> = {}): ConfState => ({...EMPTY_CONF_STATE, voters, ...more})
const self = (over: Partial<SelfView> = {}): SelfView => ({id: 3, clusterId: 100, dataDir: '/data/n3', confState: cs([1, 2, 3]), applied: 50, ...over})
const answer = (nodeId: number, clusterId: number, conf: ConfState, appliedIndex: number): PeerAnswer => ({
  address: `127.0.0.1:${2380 + nodeId}`,
  res: {clusterId, nodeId, members: {members: []}, confState: confStateToWire(conf), appliedIndex} satisfies IdentifyResponse,
})

function lost(err: MembershipLostError | undefined, code: string, re: RegExp): void {
  expect(err, 'a finding').to.be.instanceOf(MembershipLostError)
  expect(err!.code).to.equal(code)
  expect(err!.message).to.match(re)
  expect(err!.message).to.match(/^[^\n]+$/)
}

describe('peer_check: does this node still belong?', () => {
  it('after replaying its own removal, a node stays when a peer that applied at least as much names it again', () => {
    const replayed = self({confState: cs([1, 2]), applied: 50})
    const again = answer(1, 100, cs([1, 2], {learners: [3]}), 60)
    expect(addedBackByPeer(replayed, [answer(2, 100, cs([1, 2]), 55), again])).to.equal(again)
    expect(addedBackByPeer(replayed, [answer(1, 100, cs([1, 2]), 60)]), 'the peer confirms the removal').to.equal(undefined)
    expect(addedBackByPeer(replayed, [answer(1, 100, cs([1, 2, 3]), 49)]), 'a peer that applied less proves nothing').to.equal(undefined)
    expect(addedBackByPeer(replayed, [answer(1, 200, cs([1, 2, 3]), 90)]), 'another cluster proves nothing').to.equal(undefined)
    expect(addedBackByPeer(replayed, []), 'no answer').to.equal(undefined)
  })

  it('a configuration that no longer names the node means it was removed; an empty one (a new learner) does not', () => {
    lost(removedLocally(self({confState: cs([1, 2])})), 'REMOVED',
      /^node 3 was removed from cluster 100 \(its configuration at applied index 50 is voters=\(1 2\)\), so it stops; .*raftctl member add.* --data-dir$/)
    expect(removedLocally(self({confState: EMPTY_CONF_STATE, applied: 0}))).to.equal(undefined)
    expect(removedLocally(self())).to.equal(undefined)
    // Still a member while only in the outgoing half of a joint configuration, or waiting in learnersNext.
    expect(removedLocally(self({confState: cs([1, 2], {votersOutgoing: [1, 2, 3]})}))).to.equal(undefined)
    expect(removedLocally(self({confState: cs([1, 2], {votersOutgoing: [1, 2, 3], learnersNext: [3]})}))).to.equal(undefined)
  })

  it('peers that all belong to another cluster make the node stop, naming both ids', () => {
    lost(judgeAnswers(self(), [answer(1, 200, cs([1, 2]), 10), answer(2, 200, cs([1, 2]), 10)]), 'FOREIGN_CLUSTER',
      /^node 3 belongs to cluster 100 \(data dir \/data\/n3\), but its peers belong to cluster 200 \(node 1 at 127\.0\.0\.1:2381 answered\)/)
    // Whatever this node's own configuration says (a restored single-node cluster, a new learner).
    lost(judgeAnswers(self({confState: cs([3])}), [answer(1, 200, cs([1]), 1)]), 'FOREIGN_CLUSTER', /cluster 200/)
  })

  it('one answer from its own cluster outweighs foreign ones, and no answer proves nothing', () => {
    expect(judgeAnswers(self(), [answer(1, 200, cs([1]), 90), answer(2, 100, cs([1, 2, 3]), 60)])).to.equal(undefined)
    expect(judgeAnswers(self(), [])).to.equal(undefined)
  })

  it('a peer of the same cluster that applied at least as much and no longer names the node means it was removed', () => {
    lost(judgeAnswers(self(), [answer(1, 100, cs([1, 2]), 50)]), 'REMOVED',
      /^node 3 was removed from cluster 100 \(node 1 at 127\.0\.0\.1:2381 applied the log up to index 50, past this node's 50, and its configuration is voters=\(1 2\)\)/)
    lost(judgeAnswers(self(), [answer(2, 100, cs([1, 2, 3]), 70), answer(1, 100, cs([1, 2], {learners: [4]}), 80)]), 'REMOVED', /node 1 at/)
  })

  it('a peer behind this node, with an empty configuration, or naming the node in any role proves nothing', () => {
    expect(judgeAnswers(self(), [answer(1, 100, cs([1, 2]), 49)]), 'a lagging peer (the node was added after its index)').to.equal(undefined)
    expect(judgeAnswers(self(), [answer(4, 100, EMPTY_CONF_STATE, 0)]), 'a learner still waiting for its snapshot').to.equal(undefined)
    expect(judgeAnswers(self(), [answer(1, 100, cs([1, 2], {learners: [3]}), 90)])).to.equal(undefined)
    expect(judgeAnswers(self(), [answer(1, 100, cs([1, 2], {votersOutgoing: [1, 2, 3], learnersNext: [3]}), 90)])).to.equal(undefined)
    // A node not yet in its own configuration (a new learner) is never judged removed by a peer.
    expect(judgeAnswers(self({confState: EMPTY_CONF_STATE, applied: 0}), [answer(1, 100, cs([1, 2]), 90)])).to.equal(undefined)
  })

  it('asks each peer address once: the members\' first peer URL and --initial-cluster, never itself', () => {
    const members = [
      {id: 1, peerUrls: ['127.0.0.1:2381']}, {id: 3, peerUrls: ['127.0.0.1:2383']}, {id: 4, peerUrls: []},
    ]
    expect(peerAddresses(3, members, [{id: 1, peerUrl: '127.0.0.1:2381'}, {id: 2, peerUrl: '127.0.0.1:2382'}, {id: 3, peerUrl: '127.0.0.1:2383'}]))
      .to.deep.equal([{id: 1, address: '127.0.0.1:2381'}, {id: 2, address: '127.0.0.1:2382'}])
  })
})

describe('MembershipWatch', () => {
  const log = createLogger({level: 'error', format: 'json', nodeId: 3, destination: {write: () => true} as unknown as NodeJS.WritableStream})

  it('checks when a peer refuses the node as not a member or of another cluster, at most once per interval', async () => {
    const found: MembershipLostError[] = []
    let asked = 0
    const w = new MembershipWatch({
      self: () => {
        asked++
        return self({confState: cs([1, 2])})
      },
      peers: () => [], leaderlessForMs: () => undefined, electionTimeoutMs: 100, log, onLost: (e) => found.push(e),
    })
    w.onRefused(1, status.INVALID_ARGUMENT, 'bad bytes')
    expect(asked, 'an undecodable batch says nothing about membership').to.equal(0)
    w.onRefused(1, status.PERMISSION_DENIED, 'node 3 is not a member')
    w.onRefused(2, status.FAILED_PRECONDITION, 'another cluster')
    expect(asked, 'one check at a time').to.equal(1)
    for (let i = 0; i < 50 && found.length === 0; i++) await sleep(10)
    expect(found.map((e) => e.code)).to.deep.equal(['REMOVED'])
    w.onRefused(1, status.PERMISSION_DENIED, 'node 3 is not a member')
    expect(asked, 'no check after a finding').to.equal(1)
    w.stop()
  })

  it('checks after LEADERLESS_ELECTIONS election timeouts without a leader, and stops checking when stopped', async () => {
    let asked = 0
    let leaderless: number | undefined
    const w = new MembershipWatch({
      self: () => {
        asked++
        return self()
      },
      peers: () => [], leaderlessForMs: () => leaderless, electionTimeoutMs: 100, log, onLost: () => {},
    })
    w.start()
    await sleep(700)
    expect(asked, 'a leader is known').to.equal(0)
    leaderless = 299
    await sleep(700)
    expect(asked, 'not yet three election timeouts').to.equal(0)
    leaderless = 300
    for (let i = 0; i < 100 && asked === 0; i++) await sleep(20)
    expect(asked).to.equal(1)
    w.stop()
    const before = asked
    await sleep(700)
    expect(asked).to.equal(before)
  })
})
