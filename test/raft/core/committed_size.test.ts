// Config.maxCommittedSizePerReady (etcd MaxCommittedSizePerReady): a Ready hands out a bounded
// amount of committed entries, the rest come in the following Readys, and the node keeps stepping
// messages and ticking in between — so a leader working through a burst still sends heartbeats.
import {expect} from 'chai'
import {MemoryStorage} from '../../../src/raft/memory_storage.js'
import {type Ready, RawNode} from '../../../src/raft/raw_node.js'
import {StateRole} from '../../../src/raft/role.js'
import {type Entry, MessageType, newEntry, newMessage} from '../../../src/raft/types.js'
import {entrySize} from '../../../src/raft/util.js'

/** Persists a Ready into `s` and advances; returns it. */
function handle(rn: RawNode, s: MemoryStorage): Ready {
  const rd = rn.ready()
  if (rd.snapshot) s.applySnapshot(rd.snapshot)
  s.append(rd.entries)
  if (rd.hardState) s.setHardState(rd.hardState)
  rn.advance(rd)
  return rd
}

const size = (es: readonly Entry[]): number => es.reduce((n, e) => n + entrySize(e), 0)

/** Node 1 leading voters 1, 2, 3 at term 1 (node 2 voted for it), with nothing left to handle. */
function leaderOfThree(maxCommittedSizePerReady: number): {rn: RawNode; s: MemoryStorage} {
  const s = MemoryStorage.withConfState({voters: [1, 2, 3]})
  const rn = new RawNode({id: 1, electionTick: 10, heartbeatTick: 1, maxCommittedSizePerReady}, s)
  rn.campaign()
  handle(rn, s)
  rn.step(newMessage({msgType: MessageType.MsgRequestVoteResponse, from: 2, to: 1, term: 1}))
  for (let i = 0; i < 10 && rn.hasReady(); i++) handle(rn, s)
  expect(rn.status().role).to.equal(StateRole.Leader)
  return {rn, s}
}

describe('RawNode: committed entries per Ready (Config.maxCommittedSizePerReady)', () => {
  it('applies a burst over several Readys within the limit, with heartbeats sent between them', () => {
    const {rn, s} = leaderOfThree(30)
    for (let i = 0; i < 9; i++) rn.propose(new Uint8Array(10).fill(i))
    handle(rn, s)
    const last = s.lastIndex()
    expect(last).to.equal(10)
    rn.step(newMessage({msgType: MessageType.MsgAppendResponse, from: 2, to: 1, term: 1, index: last}))
    expect(rn.status().commit).to.equal(last)
    const pages: number[][] = []
    let heartbeatsBetween = 0
    for (let i = 0; i < 20 && rn.hasReady(); i++) {
      const rd = handle(rn, s)
      if (pages.length > 0 && rd.committedEntries.length > 0) {
        heartbeatsBetween += rd.messages.filter((m) => m.msgType === MessageType.MsgHeartbeat).length
      }
      if (rd.committedEntries.length === 0) continue
      expect(size(rd.committedEntries)).to.be.at.most(30)
      pages.push(rd.committedEntries.map((e) => e.index))
      // The application steps and ticks between two Readys, as a server's loop does.
      rn.tick()
    }
    // Entry 1 is the leader's empty entry (0 bytes); 2..10 carry 10 bytes each.
    expect(pages).to.deep.equal([[1, 2, 3, 4], [5, 6, 7], [8, 9, 10]])
    expect(rn.status().applied).to.equal(last)
    expect(heartbeatsBetween, 'each tick between two pages sent heartbeats to nodes 2 and 3').to.equal(4)
  })

  it('hands out an entry larger than the limit on its own, and everything at once with 0 (no limit)', () => {
    const committed = (limit: number): number[][] => {
      const s = MemoryStorage.withConfState({voters: [1]})
      const ents = [1, 2, 3].map((index) => newEntry({index, term: 1, data: new Uint8Array(index === 2 ? 100 : 1)}))
      s.append(ents)
      s.setHardState({term: 1, vote: 1, commit: 3})
      const rn = new RawNode({id: 1, maxCommittedSizePerReady: limit}, s)
      const out: number[][] = []
      for (let i = 0; i < 10 && rn.hasReady(); i++) {
        const rd = handle(rn, s)
        if (rd.committedEntries.length > 0) out.push(rd.committedEntries.map((e) => e.index))
      }
      return out
    }
    expect(committed(10)).to.deep.equal([[1], [2], [3]])
    expect(committed(0)).to.deep.equal([[1, 2, 3]])
    expect(committed(1024 * 1024), 'the default limit is far above three small entries').to.deep.equal([[1, 2, 3]])
  })
})
