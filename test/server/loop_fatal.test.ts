/**
 * Issue 11 §2: the loop never runs on after a broken invariant. An input that throws anything
 * but a refusal — a RaftInvariantError from stepping a corrupt peer message, an error of a posted
 * tick or report — stops the loop at once: its submitter gets the error, onFatal is called, the
 * inputs queued behind it never run, no further Ready is handled, and later inputs are refused.
 * Refusals (the core's documented ones and the node's own answers) only go back to the caller.
 */
import {status} from '@grpc/grpc-js'
import {expect} from 'chai'
import {
  ConfChangeError, ConfigInvalidError, InvalidInputError, MemoryStorage, type Message, MessageType, newMessage, ProposalDroppedError, RaftInvariantError,
  RawNode, StepLocalMsgError, StepPeerNotFoundError,
} from '../../src/raft/index.js'
import {NodeError} from '../../src/server/errors.js'
import {isRefusal, type LoopLimits, LoopStoppedError, NodeLoop} from '../../src/server/loop.js'

const LIMITS: LoopLimits = {maxQueuedProposals: 1000, maxUnappliedEntries: 1000}

/** A follower (node 1 of voters 1 and 2) in a loop that counts Readys and records a fatal error. */
function follower(): {rn: RawNode, loop: NodeLoop, readies: () => number, fatal: () => unknown} {
  const storage = MemoryStorage.withConfState({voters: [1, 2]})
  const rn = new RawNode({id: 1, electionTick: 10, heartbeatTick: 1}, storage)
  let readies = 0
  let fatal: unknown
  const loop = new NodeLoop(rn, {
    handleReady: async (rd) => {
      readies++
      if (rd.hardState) storage.setHardState(rd.hardState)
      storage.append(rd.entries)
    },
    onFatal: (err) => { fatal = err },
  }, LIMITS)
  return {rn, loop, readies: () => readies, fatal: () => fatal}
}

/** A heartbeat from node 2 whose commit index lies far beyond the follower's (empty) log. */
const corruptHeartbeat = (): Message => newMessage({msgType: MessageType.MsgHeartbeat, from: 2, to: 1, term: 1, commit: 1000})

const settle = async <T>(p: Promise<T>): Promise<{value?: T, error?: unknown}> => p.then((value) => ({value}), (error) => ({error}))

describe('server/loop: fatal errors of inputs', () => {
  it('a broken invariant while stepping stops the loop before anything queued behind it runs', async () => {
    const n = follower()
    let ranAfter = false
    const stepped = settle(n.loop.call((rn) => rn.step(corruptHeartbeat())))
    const behind = settle(n.loop.call(() => { ranAfter = true }))
    const first = await stepped
    expect(first.error).to.be.instanceOf(RaftInvariantError)
    expect((first.error as Error).message).to.match(/tocommit\(1000\) is out of range \[lastIndex\(0\)\]/)
    expect(n.fatal()).to.equal(first.error)
    expect((await behind).error).to.be.instanceOf(LoopStoppedError)
    expect(ranAfter).to.equal(false)
    expect(n.loop.isStopped).to.equal(true)
    const later = await settle(n.loop.call(() => 1))
    expect((later.error as Error).message).to.match(/the node stopped after an error: raft: tocommit\(1000\)/)
    // The heartbeat made node 2 the leader at term 1 before the invariant broke; none of that
    // half-changed state was handed out in a Ready.
    expect(n.readies()).to.equal(0)
  })

  it('an error of a posted input (tick, campaign, report) is not dropped: it stops the loop', async () => {
    const n = follower()
    let onError: unknown
    n.loop.post(() => { throw new TypeError('a bug in a posted input') }, (err) => { onError = err })
    await n.loop.idle()
    expect((n.fatal() as Error).message).to.equal('a bug in a posted input')
    expect(onError, 'the fatal error goes to onFatal, not to the refusal handler').to.equal(undefined)
    expect(n.loop.isStopped).to.equal(true)
  })

  it('an error raised by a tick (the election it starts) stops the loop instead of being dropped', async () => {
    const storage = MemoryStorage.withConfState({voters: [1, 2]})
    let draws = 0
    // Valid while the node is built, then out of range when the election resets the timeout.
    const rn = new RawNode({id: 1, electionTick: 2, heartbeatTick: 1, random: (n) => (draws++ === 0 ? 0 : n)}, storage)
    let fatal: unknown
    const loop = new NodeLoop(rn, {handleReady: async () => {}, onFatal: (err) => { fatal = err }}, LIMITS)
    for (let i = 0; i < 10 && fatal === undefined; i++) {
      loop.tick()
      await loop.idle()
    }
    expect(fatal).to.be.instanceOf(ConfigInvalidError)
    expect((fatal as Error).message).to.match(/config\.random\(2\) returned 2/)
    expect(loop.isStopped).to.equal(true)
  })

  it('refusals go back to the submitter and the loop keeps running', async () => {
    const n = follower()
    const refusals: Array<[string, (rn: RawNode) => void]> = [
      ['a local message type', (rn) => rn.step(newMessage({msgType: MessageType.MsgHup, from: 2, to: 1}))],
      ['a response from an unknown peer', (rn) => rn.step(newMessage({msgType: MessageType.MsgHeartbeatResponse, from: 9, to: 1}))],
      ['a field that is not a safe integer', (rn) => rn.step(newMessage({msgType: MessageType.MsgHeartbeat, from: 2, to: 1, term: -1}))],
      ['a proposal without a leader', (rn) => rn.propose(new Uint8Array([1]))],
      ['a report about node 0', (rn) => rn.reportUnreachable(0)],
      ['an answer of the node', () => { throw new NodeError(status.FAILED_PRECONDITION, 'not the leader') }],
    ]
    const posted: unknown[] = []
    for (const [what, fn] of refusals) {
      const r = await settle(n.loop.call(fn))
      expect(isRefusal(r.error), what).to.equal(true)
      n.loop.post(fn, (err) => posted.push(err))
    }
    await n.loop.idle()
    expect(posted).to.have.length(refusals.length)
    expect(n.fatal()).to.equal(undefined)
    expect(await n.loop.call(() => 42)).to.equal(42)
  })

  it('classifies exactly the documented refusals as refusals', () => {
    for (const err of [new ProposalDroppedError('no-leader', 'x'), new ConfChangeError('x'), new StepLocalMsgError(), new StepPeerNotFoundError(),
      new InvalidInputError('x'), new NodeError(status.UNAVAILABLE, 'x')]) {
      expect(isRefusal(err), err.name).to.equal(true)
    }
    for (const err of [new RaftInvariantError('x'), new TypeError('x'), new Error('x'), 'a string']) {
      expect(isRefusal(err), String(err)).to.equal(false)
    }
  })
})
