/**
 * The client while no leader answers, against scripted fake nodes (real gRPC on 127.0.0.1): a
 * call keeps trying every endpoint with back-off until its deadline, through a dead leader that
 * the followers still name; a write that may have reached a server (connection lost during the
 * call, DEADLINE_EXCEEDED from the server or the client) is never sent again and its error says
 * that its outcome is unknown and how to check; RESOURCE_EXHAUSTED marked retry-safe is retried;
 * and the final error says what happened — no leader is known, the leader does not answer, the
 * cluster is overloaded, or (only when true) no server answers at any endpoint.
 */
import {expect} from 'chai'
import {status} from '@grpc/grpc-js'
import {RaftctlClient} from '../../src/client/index.js'
import {freePorts} from '../integration/harness.js'
import {type Answer, failure, FakeKv, notLeader, unavailable} from './fake_kv.js'

const busy = (retrySafe: boolean): Answer => ({code: status.RESOURCE_EXHAUSTED, details: 'too many requests; retry shortly', retrySafe})
const times = (n: number, a: Answer): Answer[] => Array.from({length: n}, () => a)

describe('client: failover and what a failed call says', function () {
  this.timeout(20_000)
  let a: FakeKv
  let b: FakeKv
  let dead: string
  const clients: RaftctlClient[] = []
  const client = (endpoints: string[], timeoutMs = 3000): RaftctlClient => {
    const c = new RaftctlClient({endpoints, timeoutMs})
    clients.push(c)
    return c
  }

  beforeEach(async () => {
    a = await new FakeKv(1).listen()
    b = await new FakeKv(2).listen()
    dead = `127.0.0.1:${(await freePorts(1))[0]}`
  })

  afterEach(() => {
    for (const c of clients.splice(0)) c.close()
    a.close()
    b.close()
  })

  it('keeps trying a write while the followers name a dead leader, until a new leader answers', async () => {
    a.script = [notLeader(dead), notLeader(dead), notLeader(dead), notLeader(b.endpoint)]
    b.script = [notLeader(dead), notLeader(dead), unavailable(true)]
    const r = await client([dead, a.endpoint, b.endpoint]).put('k', 'v')
    expect(r.header?.memberId).to.equal(2n)
    expect(a.calls).to.deep.equal(['put', 'put', 'put', 'put'])
    expect(b.calls).to.deep.equal(['put', 'put', 'put', 'put'])
  })

  it('says that the leader does not answer when the followers name a dead one until the deadline', async () => {
    a.script = times(100, notLeader(dead))
    const e = await failure(client([dead, a.endpoint], 800).put('k', 'v'))
    expect(e.codeName).to.equal('UNAVAILABLE')
    expect(e.message).to.equal('put failed: the leader does not answer and no new one is known yet (an election may be in progress): ' +
      `${a.endpoint} names the leader ${dead}, which does not answer; no server answers at ${dead}`)
    expect(a.calls.length, 'tried again, with back-off').to.be.within(2, 10)
  })

  it('retries a write marked retry-safe with back-off until the deadline, then says that no leader is known', async () => {
    a.script = times(100, unavailable(true))
    const e = await failure(client([a.endpoint, dead], 1000).put('k', 'v'))
    expect(e.codeName).to.equal('UNAVAILABLE')
    expect(e.outcomeUnknown).to.equal(false)
    expect(e.message).to.equal('put failed: no leader is known (an election is in progress, or too few members are up to elect one): ' +
      `${a.endpoint} answered "node 1 is not the leader and no leader is known yet; retry shortly"; no server answers at ${dead}`)
    expect(a.calls.length, 'tried again, with back-off').to.be.within(2, 10)
  })

  it('says that no server answers only when no endpoint answered at all', async () => {
    const [d2] = await freePorts(1)
    const e = await failure(client([dead, `127.0.0.1:${d2}`], 500).put('k', 'v'))
    expect(e.codeName).to.equal('UNAVAILABLE')
    expect(e.message).to.equal(`cannot reach any endpoint (${dead}, 127.0.0.1:${d2}): no raftctl server answers`)
    const one = await failure(client([dead], 300).range('k'))
    expect(one.message).to.equal(`cannot reach ${dead}: no raftctl server answers there`)
  })

  it('never sends again a write whose connection was lost during the call', async () => {
    a.script = ['drop']
    const e = await failure(client([a.endpoint, b.endpoint]).put('k', 'v'))
    expect(e.outcomeUnknown).to.equal(true)
    expect(e.message).to.match(new RegExp(`^put: the outcome is unknown, it may or may not have been applied: the connection to ${a.endpoint} ` +
      'was lost during the call \\(.+\\); read the keys back with raftctl kv get before repeating it$'))
    expect(b.calls).to.deep.equal([])
  })

  it('never sends again a write the server gave up on (DEADLINE_EXCEEDED), and says so in one sentence', async () => {
    a.script = [{code: status.DEADLINE_EXCEEDED,
      details: 'the write did not complete within 100 ms; its outcome is unknown (it may still be applied), so check before repeating it'}]
    const e = await failure(client([a.endpoint, b.endpoint]).deleteRange('k'))
    expect(e.codeName).to.equal('DEADLINE_EXCEEDED')
    expect(e.outcomeUnknown).to.equal(true)
    expect(e.message).to.equal(`delete: the outcome is unknown, it may or may not have been applied: ${a.endpoint} gave up: ` +
      'the write did not complete within 100 ms; read the keys back with raftctl kv get before repeating it')
    expect(b.calls).to.deep.equal([])
  })

  it('never sends again a write that got no answer before the client\'s deadline', async () => {
    a.script = ['hang']
    const e = await failure(client([a.endpoint, b.endpoint], 400).txn({}))
    expect(e.codeName).to.equal('DEADLINE_EXCEEDED')
    expect(e.outcomeUnknown).to.equal(true)
    expect(e.message).to.equal(`txn: the outcome is unknown, it may or may not have been applied: ${a.endpoint} did not answer within ` +
      'the 400 ms timeout; read the keys back with raftctl kv get before repeating it')
    expect(b.calls).to.deep.equal([])
  })

  it('retries RESOURCE_EXHAUSTED marked retry-safe with back-off, and returns an unmarked one at once', async () => {
    a.script = [busy(true), busy(true)]
    expect((await client([a.endpoint]).put('k', 'v')).header?.memberId).to.equal(1n)
    expect(a.calls).to.deep.equal(['put', 'put', 'put'])
    a.calls.length = 0
    a.script = [busy(false)]
    const e = await failure(client([a.endpoint]).put('k', 'v'))
    expect(e.codeName).to.equal('RESOURCE_EXHAUSTED')
    expect(e.message).to.equal('too many requests; retry shortly')
    expect(a.calls).to.deep.equal(['put'])
  })

  it('says that the cluster is overloaded when it refused retry-safe until the deadline', async () => {
    a.script = times(100, busy(true))
    const e = await failure(client([a.endpoint], 800).put('k', 'v'))
    expect(e.codeName).to.equal('RESOURCE_EXHAUSTED')
    expect(e.message).to.equal('put failed: the cluster is overloaded and refused it until the deadline (nothing was written): ' +
      `${a.endpoint} answered "too many requests; retry shortly"`)
    expect(a.calls.length, 'tried again, with back-off').to.be.within(2, 10)
  })

  it('says that no leader is known when a read timed out at a member that knows none', async () => {
    a.script = ['hang']
    a.leader = 0
    const e = await failure(client([a.endpoint], 1000).range('k'))
    expect(e.codeName).to.equal('UNAVAILABLE')
    expect(e.message).to.equal('range failed: no leader is known (an election is in progress, or too few members are up to elect one): ' +
      `node 1 at ${a.endpoint} knows no leader`)
    expect(a.statusCalls).to.equal(1)
    a.script = ['hang']
    a.leader = 2
    const known = await failure(client([a.endpoint], 1000).range('k'))
    expect(known.codeName).to.equal('DEADLINE_EXCEEDED')
    expect(known.message).to.equal(`range timed out waiting for ${a.endpoint}`)
  })
})
