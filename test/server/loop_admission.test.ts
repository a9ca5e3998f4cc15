/**
 * Issue 11 §3: admission control in the node loop. Proposals are refused early with
 * RESOURCE_EXHAUSTED, marked safe to retry, when too many wait in the mailbox or too many
 * committed entries wait to be applied — and a refused proposal never reaches the core. A burst
 * of commits is applied over several Readys, with the ticks that arrive meanwhile run between
 * them, so the leader keeps sending heartbeats.
 */
import {status} from '@grpc/grpc-js'
import {expect} from 'chai'
import {MemoryStorage, MessageType, newEntry, newMessage, RawNode, type Ready, StateRole} from '../../src/raft/index.js'
import {DETAIL_KEY, type NodeError, RETRY_SAFE_KEY, toServiceError} from '../../src/server/errors.js'
import {type LoopLimits, NodeLoop} from '../../src/server/loop.js'

const settle = async <T>(p: Promise<T>): Promise<{value?: T, error?: unknown}> => p.then((value) => ({value}), (error) => ({error}))

/** Checks that `err` is etcd's retry-safe RESOURCE_EXHAUSTED answer, its detail naming `flag`. */
function expectTooManyRequests(err: unknown, flag: string): void {
  const se = toServiceError(err)
  expect(se.code, String(err)).to.equal(status.RESOURCE_EXHAUSTED)
  expect(se.metadata!.get(RETRY_SAFE_KEY)).to.deep.equal(['1'])
  expect(se.details).to.equal('etcdserver: too many requests')
  expect(String(se.metadata!.get(DETAIL_KEY)[0])).to.match(new RegExp(`^.*\\(${flag} \\d+\\); retry shortly$`))
}

describe('server/loop: admission control', () => {
  it('refuses proposals beyond --max-queued-proposals while the loop is busy, without running them', async () => {
    const storage = MemoryStorage.withConfState({voters: [1]})
    const rn = new RawNode({id: 1}, storage)
    let open!: () => void
    let gate = new Promise<void>((r) => { open = r })
    let inFlight = false
    const limits: LoopLimits = {maxQueuedProposals: 3, maxUnappliedEntries: 1000}
    const loop = new NodeLoop(rn, {
      handleReady: async (rd: Ready) => {
        inFlight = true
        if (rd.hardState) storage.setHardState(rd.hardState)
        storage.append(rd.entries)
        await gate
        inFlight = false
      },
      onFatal: (err) => { throw err },
    }, limits)
    await loop.call((r) => r.campaign())
    expect(inFlight, 'a Ready is being handled').to.equal(true)
    const ran: number[] = []
    const results = [1, 2, 3, 4, 5].map((i) => settle(loop.propose(() => { ran.push(i); return i })))
    const refused = await Promise.all(results.slice(3))
    for (const r of refused) expectTooManyRequests(r.error, '--max-queued-proposals')
    open()
    expect((await Promise.all(results.slice(0, 3))).map((r) => r.value)).to.deep.equal([1, 2, 3])
    expect(ran).to.deep.equal([1, 2, 3])
    // Once they ran, the mailbox has room again.
    gate = new Promise<void>((r) => { open = r })
    await loop.call((r) => r.propose(new Uint8Array([7])))
    const again = [6, 7, 8].map((i) => loop.propose(() => i))
    open()
    expect(await Promise.all(again)).to.deep.equal([6, 7, 8])
    await loop.idle()
  })

  it('refuses a proposal while more than --max-unapplied-entries committed entries wait to be applied', async () => {
    // A restart with 10 committed entries not yet applied, handed out one per Ready.
    const storage = MemoryStorage.withConfState({voters: [1]})
    storage.append(Array.from({length: 10}, (_, i) => newEntry({index: i + 1, term: 1, data: new Uint8Array([i])})))
    storage.setHardState({term: 1, vote: 1, commit: 10})
    const rn = new RawNode({id: 1, maxCommittedSizePerReady: 1}, storage)
    const outcomes: Array<Promise<{value?: number, error?: unknown}>> = []
    const loop: NodeLoop = new NodeLoop(rn, {
      handleReady: async () => {},
      // After each Ready, a proposal that reports the gap it saw when it ran.
      afterAdvance: () => outcomes.push(settle(loop.propose((r) => r.status().commit - r.status().applied))),
      onFatal: (err) => { throw err },
    }, {maxQueuedProposals: 1000, maxUnappliedEntries: 3})
    const first = settle(loop.propose(() => -1))
    await loop.idle()
    expectTooManyRequests((await first).error, '--max-unapplied-entries')
    expect((((await first).error) as NodeError).detail).to.match(/10 committed entries wait to be applied on this node/)
    const seen = await Promise.all(outcomes)
    // The gap after each of the 10 Readys is 9, 8, ..., 0: refused while above 3, run from 3 on.
    expect(seen).to.have.length(10)
    for (const r of seen.slice(0, 6)) expectTooManyRequests(r.error, '--max-unapplied-entries')
    expect(seen.slice(6).map((r) => r.value)).to.deep.equal([3, 2, 1, 0])
    expect(loop.isStopped).to.equal(false)
  })

  it('applies a burst over several Readys and runs the ticks that arrive meanwhile between them', async () => {
    const storage = MemoryStorage.withConfState({voters: [1, 2, 3]})
    const rn = new RawNode({id: 1, electionTick: 10, heartbeatTick: 1, maxCommittedSizePerReady: 30}, storage)
    const readies: Ready[] = []
    const loop = new NodeLoop(rn, {
      handleReady: async (rd) => {
        if (rd.hardState) storage.setHardState(rd.hardState)
        storage.append(rd.entries)
        readies.push(rd)
        // Applying takes a while; the timer ticks meanwhile.
        if (rd.committedEntries.length > 0) {
          loop.tick()
          await new Promise((r) => setTimeout(r, 1))
        }
      },
      onFatal: (err) => { throw err },
    }, {maxQueuedProposals: 1000, maxUnappliedEntries: 1000})
    await loop.call((r) => r.campaign())
    await loop.call((r) => r.step(newMessage({msgType: MessageType.MsgRequestVoteResponse, from: 2, to: 1, term: 1})))
    await loop.idle()
    expect(rn.status().role).to.equal(StateRole.Leader)
    await loop.call((r) => { for (let i = 0; i < 9; i++) r.propose(new Uint8Array(10)) })
    await loop.idle()
    readies.length = 0
    await loop.call((r) => r.step(newMessage({msgType: MessageType.MsgAppendResponse, from: 2, to: 1, term: 1, index: 10})))
    await loop.idle()
    const pages = readies.filter((rd) => rd.committedEntries.length > 0)
    expect(pages.map((rd) => rd.committedEntries.map((e) => e.index))).to.deep.equal([[1, 2, 3, 4], [5, 6, 7], [8, 9, 10]])
    // The tick queued while page 1 was applied ran before page 2 was handed out, so page 2's
    // Ready already carries the heartbeats; likewise for page 3.
    for (const rd of pages.slice(1)) {
      expect(rd.messages.filter((m) => m.msgType === MessageType.MsgHeartbeat).map((m) => m.to).sort()).to.deep.equal([2, 3])
    }
  })
})
