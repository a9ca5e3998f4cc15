/**
 * The node loop with a real RawNode over MemoryStorage: inputs run in order, nothing reaches the
 * RawNode while a Ready is being handled, an input's refusal goes back to its caller, and an
 * error while handling a Ready stops the loop. Fatal inputs and admission control are tested in
 * loop_fatal.test.ts and loop_admission.test.ts.
 */
import {expect} from 'chai'
import {MemoryStorage, RawNode, type Ready, StateRole} from '../../src/raft/index.js'
import {type LoopLimits, LoopStoppedError, NodeLoop} from '../../src/server/loop.js'

/** Limits no test in this file reaches. */
const LIMITS: LoopLimits = {maxQueuedProposals: 1000, maxUnappliedEntries: 1000}

function node(): {rn: RawNode, storage: MemoryStorage} {
  const storage = MemoryStorage.withConfState({voters: [1]})
  return {rn: new RawNode({id: 1, electionTick: 10, heartbeatTick: 1}, storage), storage}
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5))

describe('server/loop', () => {
  it('handles each Ready before advancing and never runs an input while one is in flight', async () => {
    const {rn, storage} = node()
    let inFlight = false
    let overlapped = false
    let readies = 0
    const loop = new NodeLoop(rn, {
      handleReady: async (rd: Ready) => {
        inFlight = true
        readies++
        if (rd.hardState) storage.setHardState(rd.hardState)
        storage.append(rd.entries)
        await tick()
        inFlight = false
      },
      onFatal: (err) => { throw err },
    }, LIMITS)
    const guard = (f: (r: RawNode) => void) => (r: RawNode): void => {
      if (inFlight) overlapped = true
      f(r)
    }
    await loop.call(guard((r) => r.campaign()))
    for (let i = 0; i < 20; i++) loop.post(guard((r) => r.tick()))
    await loop.call(guard((r) => r.propose(new Uint8Array([1]))))
    await loop.idle()
    expect(overlapped).to.equal(false)
    expect(readies).to.be.greaterThan(0)
    expect(rn.status().role).to.equal(StateRole.Leader)
    expect(storage.lastIndex()).to.equal(2)
  })

  it('returns an input\'s error to its caller and keeps running', async () => {
    const {rn} = node()
    const loop = new NodeLoop(rn, {handleReady: async () => {}, onFatal: () => {}}, LIMITS)
    let err: unknown
    await loop.call((r) => r.propose(new Uint8Array([1]))).catch((e) => { err = e })
    expect((err as Error).message).to.match(/proposal dropped/)
    expect(await loop.call(() => 42)).to.equal(42)
  })

  it('stops after an error while handling a Ready and refuses later inputs', async () => {
    const {rn} = node()
    let fatal: unknown
    const loop = new NodeLoop(rn, {handleReady: async () => { throw new Error('disk gone') }, onFatal: (e) => { fatal = e }}, LIMITS)
    await loop.call((r) => r.campaign())
    await loop.idle()
    expect((fatal as Error).message).to.equal('disk gone')
    let err: unknown
    await loop.call(() => 1).catch((e) => { err = e })
    expect(err).to.be.instanceOf(LoopStoppedError)
    expect((err as Error).message).to.match(/stopped after an error: disk gone/)
  })

  it('coalesces ticks while the loop is busy', async () => {
    const {rn} = node()
    let ticks = 0
    const loop = new NodeLoop(rn, {handleReady: async () => {}, onFatal: () => {}}, LIMITS)
    const orig = rn.tick.bind(rn)
    rn.tick = () => { ticks++; orig() }
    for (let i = 0; i < 10; i++) loop.tick()
    await loop.idle()
    expect(ticks).to.equal(3)
    await loop.stop()
    loop.tick()
    expect(ticks).to.equal(3)
  })
})
