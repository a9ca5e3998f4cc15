/**
 * The typed client's call rules against scripted fake KV servers (real gRPC on 127.0.0.1): reads
 * are retried on UNAVAILABLE, writes only when the server marked the refusal retry-safe; a
 * not-leader answer's hint is followed and remembered (leader discovery); an endpoint that cannot
 * be reached is skipped even for a write (the request never left); other errors come back at
 * once; and one deadline bounds the whole call.
 */
import {expect} from 'chai'
import {Metadata, type ServiceError, status} from '@grpc/grpc-js'
import {ClientError, RaftctlClient} from '../../src/client/index.js'
import {LEADER_HINT_KEY, RETRY_SAFE_KEY} from '../../src/client/rpc.js'
import {KVService, type PutResponse, type RangeResponse} from '../../src/generated/raftctl/v1/kv.js'
import {freePorts} from '../integration/harness.js'
import {FakeGrpcServer} from './fake_server.js'

/** What a fake server answers to one call: a response, an error, or nothing (hang). */
type Answer = {ok: true} | {code: status, details: string, leader?: string, retrySafe?: boolean} | 'hang'

/** A fake KV server that answers each call with the next scripted answer (then OK). */
class FakeKv extends FakeGrpcServer {
  readonly calls: string[] = []
  script: Answer[] = []

  constructor(readonly memberId: number) {
    super()
  }

  async listen(): Promise<this> {
    const answer = (method: string) => (_call: unknown, cb: (err: Partial<ServiceError> | null, res?: unknown) => void): void => {
      this.calls.push(method)
      const a = this.script.shift() ?? {ok: true}
      if (a === 'hang') return
      if ('ok' in a) {
        const header = {clusterId: 7, memberId: this.memberId, revision: 1, raftTerm: 1}
        const res: PutResponse | RangeResponse = method === 'put' ? {header, prevKv: undefined} : {header, kvs: [], more: false, count: 0}
        cb(null, res)
        return
      }
      const md = new Metadata()
      if (a.leader !== undefined) md.set(LEADER_HINT_KEY, a.leader)
      if (a.retrySafe === true) md.set(RETRY_SAFE_KEY, '1')
      cb({code: a.code, details: a.details, metadata: md})
    }
    await this.serve(KVService, {
      range: answer('range'), put: answer('put'), deleteRange: answer('deleteRange'), txn: answer('txn'), watch: () => {},
    })
    return this
  }
}

const unavailable = (retrySafe = false): Answer => ({code: status.UNAVAILABLE, details: 'no leader is known yet', retrySafe})

async function failure(p: Promise<unknown>): Promise<ClientError> {
  try {
    await p
  } catch (err) {
    expect(err).to.be.instanceOf(ClientError)
    return err as ClientError
  }
  throw new Error('expected the call to fail')
}

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
    expect(r.header?.memberId).to.equal(1)
    expect(a.calls).to.deep.equal(['range', 'range', 'range'])
  })

  it('does not repeat a write answered UNAVAILABLE unless the server marked it retry-safe', async () => {
    a.script = [unavailable(false)]
    const e = await failure(client([a.endpoint]).put('k', 'v'))
    expect(e.codeName).to.equal('UNAVAILABLE')
    expect(e.message).to.equal('no leader is known yet')
    expect(a.calls).to.deep.equal(['put'])
    a.calls.length = 0
    a.script = [unavailable(true), unavailable(true)]
    expect((await client([a.endpoint]).put('k', 'v')).header?.memberId).to.equal(1)
    expect(a.calls).to.deep.equal(['put', 'put', 'put'])
  })

  it('follows a not-leader hint and sends later calls to the leader first', async () => {
    a.script = [{code: status.FAILED_PRECONDITION, details: 'node 1 is not the leader', leader: b.endpoint}]
    const c = client([a.endpoint, b.endpoint])
    expect((await c.put('k', 'v')).header?.memberId).to.equal(2)
    expect((await c.put('k', 'w')).header?.memberId).to.equal(2)
    expect(a.calls).to.deep.equal(['put'])
    expect(b.calls).to.deep.equal(['put', 'put'])
    expect(c.conn.leaderEndpoint).to.equal(b.endpoint)
  })

  it('moves past an endpoint nobody listens on, for writes too', async () => {
    const [closed] = await freePorts(1)
    const r = await client([`127.0.0.1:${closed}`, b.endpoint]).put('k', 'v')
    expect(r.header?.memberId).to.equal(2)
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
