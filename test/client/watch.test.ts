/**
 * The client's WatchStream over etcd's Watch service, against scripted fake members: an answer
 * holding several revisions (a catch-up) becomes one batch per revision; a broken stream is
 * opened again on the next endpoint from the last revision seen + 1 (a progress answer counts as
 * seen); a compacted start ends the watch at once with OUT_OF_RANGE naming the compact revision.
 */
import {type ServerDuplexStream, status} from '@grpc/grpc-js'
import {expect} from 'chai'
import {RaftctlClient, type WatchBatch} from '../../src/client/index.js'
import {batchesOf} from '../../src/client/watch.js'
import {type WatchCreateRequest, type WatchRequest, type WatchResponse, WatchService} from '../../src/generated/etcd/etcdserverpb/watch.js'
import {type Event, Event_EventType} from '../../src/generated/etcd/mvccpb/kv.js'
import {waitFor} from '../integration/harness.js'
import {FakeGrpcServer} from './fake_server.js'

const t = (s: string): Uint8Array => new TextEncoder().encode(s)
const put = (key: string, rev: number): Event =>
  ({type: Event_EventType.PUT, kv: {key: t(key), value: t('v'), createRevision: rev, modRevision: rev, version: 1, lease: 0n}, prevKv: undefined})

/** What a fake member does with each create: the answers to write, then 'end' (UNAVAILABLE) or 'stay' open. */
type Script = (create: WatchCreateRequest) => {answers: Array<Partial<WatchResponse>>, then: 'end' | 'stay'}

class FakeWatchMember extends FakeGrpcServer {
  readonly creates: WatchCreateRequest[] = []

  constructor(private readonly script: Script) {
    super()
  }

  async listen(): Promise<this> {
    await this.serve(WatchService, {
      watch: (call: ServerDuplexStream<WatchRequest, WatchResponse>) => {
        call.on('data', (req: WatchRequest) => {
          if (req.createRequest === undefined) return
          this.creates.push(req.createRequest)
          const {answers, then} = this.script(req.createRequest)
          for (const a of answers) {
            call.write({header: {clusterId: 7n, memberId: 1n, revision: 0, raftTerm: 1}, watchId: 0n, created: false, canceled: false,
              compactRevision: 0, cancelReason: '', fragment: false, events: [], ...a})
          }
          if (then === 'end') call.emit('error', {code: status.UNAVAILABLE, details: 'etcdserver: server stopped'})
        })
      },
    })
    return this
  }
}

const header = (revision: number): WatchResponse['header'] => ({clusterId: 7n, memberId: 1n, revision, raftTerm: 1})

describe('client: WatchStream over etcd\'s Watch service', function () {
  this.timeout(20_000)
  const members: FakeWatchMember[] = []
  const clients: RaftctlClient[] = []
  const member = async (script: Script): Promise<FakeWatchMember> => {
    const m = await new FakeWatchMember(script).listen()
    members.push(m)
    return m
  }
  const client = (ms: FakeWatchMember[]): RaftctlClient => {
    const c = new RaftctlClient({endpoints: ms.map((m) => m.endpoint), timeoutMs: 3000})
    clients.push(c)
    return c
  }
  afterEach(() => {
    for (const c of clients.splice(0)) c.close()
    for (const m of members.splice(0)) m.close()
  })

  it('splits an answer of several revisions into one batch per revision, in order', () => {
    const bs = batchesOf([put('a', 5), put('b', 5), put('a', 6), put('c', 8)])
    expect(bs.map((b) => [b.revision, b.events.map((e) => new TextDecoder().decode(e.kv!.key)).join('')])).to.deep.equal([[5, 'ab'], [6, 'a'], [8, 'c']])
  })

  it('resumes on the next endpoint from the last revision seen + 1, a progress answer included, without repeating', async () => {
    const first = await member(() => ({
      answers: [{created: true, header: header(4)}, {events: [put('k/a', 5), put('k/b', 5), put('k/a', 6)], header: header(6)},
        {events: [], header: header(9)}],
      then: 'end',
    }))
    const second = await member(() => ({answers: [{created: true, header: header(12)}, {events: [put('k/a', 10)], header: header(10)}], then: 'stay'}))
    const w = client([first, second]).watch('k/', {prefix: true, startRevision: 5})
    const got: WatchBatch[] = []
    for (let i = 0; i < 3; i++) got.push((await w.next()).value as WatchBatch)
    w.cancel()
    expect(got.map((b) => [b.revision, b.events.length])).to.deep.equal([[5, 2], [6, 1], [10, 1]])
    expect(first.creates.map((c) => c.startRevision)).to.deep.equal([5])
    expect(second.creates.map((c) => c.startRevision), 'the progress answer said 9 was seen').to.deep.equal([10])
    expect(second.creates[0].rangeEnd).to.deep.equal(t('k0'))
  })

  it('starts a watch without a start revision after the revision of the created answer when it resumes', async () => {
    const first = await member(() => ({answers: [{created: true, header: header(20)}], then: 'end'}))
    const second = await member(() => ({answers: [{created: true, header: header(22)}], then: 'stay'}))
    const w = client([first, second]).watch('k')
    await waitFor('the watch to reopen on the second member', () => second.creates.length === 1)
    expect(w.revision).to.equal(20)
    expect([first.creates[0].startRevision, second.creates[0].startRevision]).to.deep.equal([0, 21])
    w.cancel()
  })

  it('ends a compacted start at once with OUT_OF_RANGE naming the compact revision, without trying other members', async () => {
    const compacted = await member(() => ({answers: [{created: true, header: header(30)}, {canceled: true, compactRevision: 25, header: header(0)}], then: 'stay'}))
    const other = await member(() => ({answers: [{created: true, header: header(30)}], then: 'stay'}))
    const w = client([compacted, other]).watch('k', {startRevision: 3})
    const err = await w.next().then(() => undefined, (e: unknown) => e as Error & {codeName?: string})
    expect(err?.codeName).to.equal('OUT_OF_RANGE')
    expect(err?.message).to.equal('the watch cannot start at revision 3: it was compacted (compact revision 25); ' +
      'read the current state with raftctl kv get and watch again from its revision + 1')
    expect(other.creates).to.have.length(0)
  })

  it('asks the member for the filters and prev_kv it was given', async () => {
    const m = await member(() => ({answers: [{created: true, header: header(2)}], then: 'stay'}))
    const w = client([m]).watch('', {fromKey: true, prevKv: true, noPut: true})
    await waitFor('the create', () => m.creates.length === 1)
    w.cancel()
    expect(m.creates[0]).to.deep.include({key: t('\0'), rangeEnd: t('\0'), prevKv: true, filters: [0], startRevision: 0, watchId: 0n, fragment: false})
  })
})
