/**
 * The client refuses to mix clusters: the cluster id in every answer's header (unary calls,
 * status, snapshot download, watch stream) must match the first one the connection saw, else
 * the call fails with an error naming both ids and the endpoint; and once the cluster is known,
 * a write goes to a not-yet-seen endpoint only after its status showed the same cluster, so it
 * never lands in the other one. Fake nodes of clusters 7 and 8 given as one endpoint list.
 */
import {expect} from 'chai'
import {RaftctlClient} from '../../src/client/index.js'
import {failure, FakeKv, notLeader} from './fake_kv.js'

describe('client: one cluster per connection', function () {
  this.timeout(20_000)
  let a: FakeKv
  let b: FakeKv
  let c: RaftctlClient
  const mixed = (): string => `${b.endpoint} belongs to cluster 8, but ${a.endpoint} to cluster 7: ` +
    '--endpoints mixes members of two clusters; give the client addresses of one cluster only'

  beforeEach(async () => {
    a = await new FakeKv(1, 7).listen()
    b = await new FakeKv(2, 8).listen()
    c = new RaftctlClient({endpoints: [a.endpoint, b.endpoint], timeoutMs: 3000})
  })

  afterEach(() => {
    c.close()
    a.close()
    b.close()
  })

  it('refuses an answer from another cluster than the first one seen, naming both ids and the endpoint', async () => {
    await c.range('k')
    expect(c.conn.clusterId).to.equal(7)
    const e = await failure(c.status(b.endpoint))
    expect(e.codeName).to.equal('FAILED_PRECONDITION')
    expect(e.endpoint).to.equal(b.endpoint)
    expect(e.message).to.equal(mixed())
    expect((await failure(c.range('k', {endpoint: b.endpoint}))).message).to.equal(mixed())
    expect((await c.status(a.endpoint)).id, 'the first cluster still answers').to.equal(1)
  })

  it('does not send a write to an endpoint of another cluster, even when the first one names it leader', async () => {
    await c.range('k')
    a.script = [notLeader(b.endpoint)]
    const e = await failure(c.put('k', 'v'))
    expect(e.message).to.equal(mixed())
    expect(b.statusCalls).to.equal(1)
    expect(b.calls, 'the write never reached cluster 8').to.deep.equal([])
  })

  it('refuses a snapshot download from another cluster', async () => {
    await c.status(a.endpoint)
    const e = await failure(c.snapshot(b.endpoint))
    expect(e.message).to.equal(mixed())
  })

  it('ends a watch whose member answers for another cluster', async () => {
    await c.status(b.endpoint)
    a.watchResponses = [{watchId: 0n, created: true, events: [], compactRevision: 0, canceled: false, cancelReason: '', fragment: false}]
    const w = c.watch('k')
    const e = await failure(w.next())
    expect(e.message).to.equal(`${a.endpoint} belongs to cluster 7, but ${b.endpoint} to cluster 8: ` +
      '--endpoints mixes members of two clusters; give the client addresses of one cluster only')
    w.cancel()
  })
})
