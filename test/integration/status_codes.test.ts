/**
 * The gRPC status codes of the client services end to end, on a real three-node cluster, for
 * the cases the other integration tests do not reach: etcd's MoveLeader sent to a follower
 * (forwarded to the leader, never a not-leader answer), INVALID_ARGUMENT, NOT_FOUND, OUT_OF_RANGE
 * for a future revision and for a Watch no member can start (a read at a past revision is
 * answered from the MVCC history), and for a leader transfer that cannot happen: etcd's
 * transfer timeout (UNAVAILABLE), before the client's own deadline and saying why, for a voter
 * that stopped answering; FAILED_PRECONDITION at once for a voter the leader knows is down and
 * for an id that is no member (etcd's bad leader transferee). Every message is one line.
 */
import {expect} from 'chai'
import {Metadata, type ServiceError} from '@grpc/grpc-js'
import {bytesToString, ClientError, type RaftctlClient, type WatchBatch} from '../../src/client/index.js'
import {LEADER_HINT_KEY} from '../../src/client/rpc.js'
import {MaintenanceClient} from '../../src/generated/etcd/etcdserverpb/maintenance.js'
import {ensureBuilt, stopAll, TestCluster, waitFor} from './harness.js'

async function failure(p: Promise<unknown>): Promise<ClientError> {
  try {
    await p
  } catch (err) {
    expect(err).to.be.instanceOf(ClientError)
    expect((err as Error).message).to.not.match(/\n/)
    return err as ClientError
  }
  throw new Error('expected the call to fail')
}

describe('integration: status codes of the client services', function () {
  this.timeout(60_000)
  const cluster = new TestCluster()
  let client: RaftctlClient
  let leader: number
  let follower: number
  /** The revision of the first write, applied by every node before the follower is stopped. */
  let first: number

  before(async function () {
    this.timeout(240_000)
    ensureBuilt()
    await cluster.bootstrap(3)
    client = cluster.client()
    leader = await cluster.waitLeader()
    follower = [1, 2, 3].find((id) => id !== leader)!
  })

  after(async () => {
    cluster.close()
    await stopAll()
  })

  it('carries out a MoveLeader sent to a follower on the leader (forwarded, no not-leader answer or leader hint)', async () => {
    // MoveLeader is the one maintenance call only the leader can carry out; the follower forwards
    // it. Sent to the follower, a refusal must be the leader's (here: an id that is no member).
    const raw = client.conn.client(MaintenanceClient, cluster.node(follower).client)
    const err = await new Promise<ServiceError>((resolve, reject) => {
      raw.moveLeader({targetID: 42n}, new Metadata(), {deadline: Date.now() + 5000},
        (e) => (e === null ? reject(new Error('a transfer to no member was accepted')) : resolve(e)))
    })
    expect(err.details).to.equal('etcdserver: bad leader transferee')
    expect(err.metadata.get(LEADER_HINT_KEY), 'no redirect').to.deep.equal([])
    await cluster.client([follower], 5000).moveLeader(leader)
    expect((await client.status(cluster.node(follower).client)).leader, 'the leader still leads').to.equal(leader)
  })

  it('answers INVALID_ARGUMENT for a malformed request and NOT_FOUND for an unknown member', async () => {
    expect((await failure(client.put('', 'v'))).codeName).to.equal('INVALID_ARGUMENT')
    expect((await failure(client.range(''))).codeName).to.equal('INVALID_ARGUMENT')
    const nf = await failure(client.memberPromote(42))
    expect(nf.codeName).to.equal('NOT_FOUND')
    expect(nf.message).to.match(/node 42 is not a member/)
    const bad = await failure(client.moveLeader(42))
    expect(bad.codeName, 'etcd\'s bad leader transferee').to.equal('FAILED_PRECONDITION')
    expect(bad.message).to.equal('node 42 is not a member of the cluster')
  })

  it('reads a past revision from the history, and answers OUT_OF_RANGE for a future one', async () => {
    first = (await client.put('rev', 'one')).header!.revision
    const second = (await client.put('rev', 'two')).header!.revision
    const past = await client.range('rev', {revision: first})
    expect(bytesToString(past.kvs[0].value)).to.equal('one')
    expect(past.header!.revision, 'the header carries the current revision').to.equal(second)
    const future = await failure(client.range('rev', {revision: second + 100}))
    expect(future.codeName).to.equal('OUT_OF_RANGE')
    expect(future.message).to.include(String(second + 100))
    const now = await client.range('rev', {revision: second})
    expect(bytesToString(now.kvs[0].value)).to.equal('two')
    await waitFor(`node ${follower} to apply revision ${second}`, async () =>
      (await client.get('rev', {endpoint: cluster.node(follower).client, serializable: true}))?.modRevision === second)
  })

  it('answers etcd\'s transfer timeout, before the client\'s deadline and saying why, when leadership cannot move to a paused voter', async () => {
    const n = cluster.node(follower)
    process.kill(n.proc!.pid!, 'SIGSTOP')
    let err: ClientError
    try {
      err = await failure(cluster.client([leader], 5000).moveLeader(follower))
    } finally {
      // Killed, not resumed: resumed, it would act on the MsgTimeoutNow waiting in its socket and
      // start an election long after the transfer was given up. It restarts from disk below.
      process.kill(n.proc!.pid!, 'SIGKILL')
      await n.waitExit()
    }
    expect(err.codeName, 'etcd\'s "leader transfer took too long"').to.equal('UNAVAILABLE')
    expect(err.message).to.match(new RegExp(`^leadership did not move to node ${follower} within \\d+ ms: the leader has not heard ` +
      `from it for an election timeout \\(it is down, paused or cut off\\); node ${leader} still leads$`))
    expect((await client.status(cluster.node(leader).client)).leader, 'the leader keeps leading').to.equal(leader)
  })

  it('refuses at once a leader transfer to a voter the leader knows is down, naming it (FAILED_PRECONDITION)', async () => {
    expect(cluster.node(follower).running, 'killed by the test before').to.equal(false)
    await waitFor(`the leader to see node ${follower} as unreachable`, async () => {
      const list = await client.memberList({endpoint: cluster.node(leader).client})
      return list.members.find((m) => m.member?.id === follower)?.recentActive === false
    }, {timeoutMs: 15_000})
    const err = await failure(cluster.client([leader], 5000).moveLeader(follower))
    expect(err.codeName, 'refused before any wait (a transfer that waited ends UNAVAILABLE)').to.equal('FAILED_PRECONDITION')
    expect(err.message).to.equal(`node ${follower} cannot take over leadership: the leader (node ${leader}) cannot reach it now; ` +
      'check that it runs, or choose another voter')
    expect((await client.status(cluster.node(leader).client)).leader, 'the leader keeps leading').to.equal(leader)
  })

  it('starts a watch from the first revision on a member just restarted, which replays it from disk', async () => {
    // The old in-memory watch history started after the revision a node had when it stopped, so
    // this watch ended with OUT_OF_RANGE; the history records on disk serve it now.
    const n = cluster.node(follower)
    n.start()
    await waitFor(`node ${follower} to serve again`, async () => (await client.status(n.client)).leader === leader)
    const onlyRestarted = cluster.client([follower]).watch('rev', {startRevision: first})
    const batch = await (async (): Promise<WatchBatch | undefined> => {
      for await (const b of onlyRestarted) return b
      return undefined
    })()
    expect(batch?.revision).to.equal(first)
    expect(bytesToString(batch!.events[0].kv!.value)).to.equal('one')
  })
})
