/**
 * The typed client's call rules against scripted fake KV servers (real gRPC on 127.0.0.1): reads
 * are retried on UNAVAILABLE, writes only when the server marked the refusal retry-safe; a
 * not-leader answer's hint is followed and remembered (leader discovery); an endpoint that cannot
 * be reached is skipped even for a write (the request never left); other errors come back at
 * once; and one deadline bounds the whole call. (failover.test.ts: what a call does while no
 * leader answers, and how it reports it.)
 */
import {expect} from 'chai'
import {status} from '@grpc/grpc-js'
import {RaftctlClient} from '../../src/client/index.js'
import {freePorts} from '../integration/harness.js'
import {failure, FakeKv, notLeader, unavailable} from './fake_kv.js'

describe('client: retries, redirects and deadlines', function () {
  this.timeout(20_000)
  let a: FakeKv
  let b: FakeKv
  const clients: RaftctlClient[] = []
  const client = (endpoints: string[], timeoutMs = 3000): RaftctlClient => {
    const c = new RaftctlClient({endpoints, timeoutMs})
    clients.push(c)
    return c
  }

  beforeEach(async () => {
    a = await new FakeKv(1).listen()
    b = await new FakeKv(2).listen()
  })

  afterEach(() => {
    for (const c of clients.splice(0)) c.close()
    a.close()
    b.close()
  })

  it('retries a read answered UNAVAILABLE until it succeeds', async () => {
    a.script = [unavailable(), unavailable()]
    const r = await client([a.endpoint]).range('k')
    expect(r.header?.memberId).to.equal(1n)
    expect(a.calls).to.deep.equal(['range', 'range', 'range'])
  })

  it('does not repeat a write answered UNAVAILABLE unless the server marked it retry-safe', async () => {
    a.script = [unavailable(false, 'the node is stopping')]
    const e = await failure(client([a.endpoint, b.endpoint]).put('k', 'v'))
    expect(e.codeName).to.equal('UNAVAILABLE')
    expect(e.outcomeUnknown).to.equal(true)
    expect(e.message).to.equal(`put: the outcome is unknown, it may or may not have been applied: ${a.endpoint} answered UNAVAILABLE: ` +
      'the node is stopping; read the keys back with raftctl kv get before repeating it')
    expect(a.calls).to.deep.equal(['put'])
    expect(b.calls, 'not sent again elsewhere either').to.deep.equal([])
    a.calls.length = 0
    a.script = [unavailable(true), unavailable(true)]
    expect((await client([a.endpoint]).put('k', 'v')).header?.memberId).to.equal(1n)
    expect(a.calls).to.deep.equal(['put', 'put', 'put'])
  })

  it('repeats a write the server gave up on while it knew no leader (DEADLINE_EXCEEDED marked retry-safe)', async () => {
    const gaveUp = {code: status.DEADLINE_EXCEEDED, details: 'context deadline exceeded', retrySafe: true}
    a.script = [gaveUp, gaveUp]
    expect((await client([a.endpoint]).put('k', 'v')).header?.memberId).to.equal(1n)
    expect(a.calls).to.deep.equal(['put', 'put', 'put'])
  })

  it('returns etcd\'s "unhealthy cluster" refusal of a write at once, as a refusal and not an unknown outcome', async () => {
    a.script = [{code: status.UNAVAILABLE, details: 'etcdserver: unhealthy cluster'}]
    const e = await failure(client([a.endpoint, b.endpoint]).put('k', 'v'))
    expect(e.codeName).to.equal('UNAVAILABLE')
    expect(e.outcomeUnknown).to.equal(false)
    expect(e.message).to.equal('etcdserver: unhealthy cluster')
    expect(a.calls).to.deep.equal(['put'])
    expect(b.calls).to.deep.equal([])
  })

  it('follows a not-leader hint and sends later calls to the leader first', async () => {
    a.script = [notLeader(b.endpoint)]
    const c = client([a.endpoint, b.endpoint])
    expect((await c.put('k', 'v')).header?.memberId).to.equal(2n)
    expect((await c.put('k', 'w')).header?.memberId).to.equal(2n)
    expect(a.calls).to.deep.equal(['put'])
    expect(b.calls).to.deep.equal(['put', 'put'])
    expect(c.conn.leaderEndpoint).to.equal(b.endpoint)
  })

  it('moves past an endpoint nobody listens on, for writes too', async () => {
    const [closed] = await freePorts(1)
    const r = await client([`127.0.0.1:${closed}`, b.endpoint]).put('k', 'v')
    expect(r.header?.memberId).to.equal(2n)
    expect(b.calls).to.deep.equal(['put'])
  })

  it('returns other errors at once without retrying', async () => {
    a.script = [{code: status.INVALID_ARGUMENT, details: 'key is empty'}]
    const e = await failure(client([a.endpoint, b.endpoint]).range('k'))
    expect(e.codeName).to.equal('INVALID_ARGUMENT')
    expect(e.message).to.equal('key is empty')
    expect(e.endpoint).to.equal(a.endpoint)
    expect(b.calls).to.deep.equal([])
  })

  it('bounds a call, retries included, by one deadline', async () => {
    a.script = ['hang']
    const t0 = Date.now()
    const e = await failure(client([a.endpoint, b.endpoint], 500).range('k'))
    expect(e.codeName).to.equal('DEADLINE_EXCEEDED')
    expect(e.message).to.equal(`range timed out waiting for ${a.endpoint}`)
    expect(Date.now() - t0).to.be.within(400, 3000)
    a.script = Array.from({length: 100}, () => unavailable())
    const t1 = Date.now()
    const e2 = await failure(client([a.endpoint], 600).range('k'))
    expect(['UNAVAILABLE', 'DEADLINE_EXCEEDED']).to.include(e2.codeName)
    expect(Date.now() - t1).to.be.within(400, 3000)
  })
})
