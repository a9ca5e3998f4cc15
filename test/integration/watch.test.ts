/**
 * Watches on real nodes over etcd's Watch service: the history is on disk, so a member that was
 * restarted replays a watch from a past revision by itself; a watch from a compacted revision is
 * canceled with compact_revision (the raftctl client ends it with OUT_OF_RANGE naming it); and a
 * watch given only a follower keeps delivering every event, in order and once, while the leader
 * is killed and another is elected; a stream opened with etcd's `hasleader` metadata ends with
 * "etcdserver: no leader" once its member has known no leader for three election timeouts, as
 * etcd's, while other streams stay; progress_notify answers come at the server's
 * --experimental-watch-progress-notify-interval. Auto-compaction (revision mode) provides the
 * compaction.
 */
import {expect} from 'chai'
import {bytesToString, ClientError, type RaftctlClient, type WatchBatch, type WatchStream} from '../../src/client/index.js'
import {WatchProbe} from '../server/etcd_watch_helpers.js'
import {watchCreate} from '../compat/etcd_grpc.js'
import {ensureBuilt, stopAll, TestCluster, waitFor} from './harness.js'

/** Takes batches until one reaches `revision` (bounded by the test's timeout); returns them. */
async function batchesUntil(w: WatchStream, revision: number): Promise<WatchBatch[]> {
  const out: WatchBatch[] = []
  while (out.length === 0 || out[out.length - 1].revision < revision) {
    const r = await w.next()
    if (r.done === true) throw new Error(`the watch ended at ${out.map((b) => b.revision).join(',')}`)
    out.push(r.value)
  }
  return out
}

const summary = (bs: readonly WatchBatch[]): string[] =>
  bs.flatMap((b) => b.events.map((e) => `${b.revision}:${bytesToString(e.kv!.key)}=${bytesToString(e.kv!.value)}`))

describe('integration: watches on the MVCC history', function () {
  this.timeout(120_000)
  const cluster = new TestCluster()
  let client: RaftctlClient
  let leader: number
  let follower: number
  /** RETENTION revisions are kept; the leader compacts every 200 ms. */
  const RETENTION = 30

  before(async function () {
    this.timeout(240_000)
    ensureBuilt()
    await cluster.bootstrap(3, ['--auto-compaction-mode', 'revision', '--auto-compaction-retention', String(RETENTION),
      '--auto-compaction-check-interval', '200ms', '--experimental-watch-progress-notify-interval', '300ms'])
    client = cluster.client()
    leader = await cluster.waitLeader()
    follower = [1, 2, 3].find((id) => id !== leader)!
  })

  after(async () => {
    cluster.close()
    await stopAll()
  })

  it('replays a watch from a past revision on a member just restarted, from its disk alone', async () => {
    const first = (await client.put('r/a', '1')).header!.revision
    await client.put('r/b', '2')
    await client.deleteRange('r/a')
    const last = (await client.put('r/a', '3')).header!.revision
    const n = cluster.node(follower)
    await waitFor(`node ${follower} to apply revision ${last}`, async () =>
      (await client.get('r/a', {endpoint: n.client, serializable: true}))?.modRevision === last)
    expect(await n.stop('SIGTERM')).to.equal(0)
    n.start()
    const only = cluster.client([follower])
    await waitFor(`node ${follower} to serve again`, async () => (await only.status(n.client)).leader !== 0)
    const w = only.watch('r/', {prefix: true, startRevision: first, prevKv: true})
    try {
      const got = await batchesUntil(w, last)
      expect(summary(got)).to.deep.equal([`${first}:r/a=1`, `${first + 1}:r/b=2`, `${first + 2}:r/a=`, `${last}:r/a=3`])
      expect(bytesToString(got[2].events[0].prevKv!.value), 'prev_kv from the history').to.equal('1')
      expect(w.endpoint).to.equal(n.client)
    } finally {
      w.cancel()
    }
  })

  it('cancels a watch from a compacted revision with compact_revision, and the client ends it with OUT_OF_RANGE', async () => {
    const first = (await client.put('c/k', '0')).header!.revision
    let last = first
    for (let i = 1; i <= RETENTION + 5; i++) last = (await client.put('c/k', String(i))).header!.revision
    const probe = new WatchProbe(cluster.node(follower).client)
    try {
      // The compaction reaches every member through the log; poll until the follower applied one
      // past `first`. As etcd, the watch is created, then canceled (else its events come).
      let compact = 0
      await waitFor('a compaction past the first write on the follower', async () => {
        const p = new WatchProbe(cluster.node(follower).client)
        try {
          p.send(watchCreate('c/k', first))
          await p.count(2)
          compact = p.responses[1].canceled ? p.responses[1].compactRevision : 0
          return compact > first
        } finally {
          p.close()
        }
      }, {timeoutMs: 30_000})
      probe.send(watchCreate('c/k', first))
      await probe.count(2)
      const [created, canceled] = probe.responses
      expect({created: created.created, canceled: created.canceled, watchId: created.watchId}).to.deep.equal({created: true, canceled: false, watchId: 0n})
      expect({created: canceled.created, canceled: canceled.canceled, watchId: canceled.watchId, events: canceled.events.length})
        .to.deep.equal({created: false, canceled: true, watchId: 0n, events: 0})
      expect(canceled.compactRevision).to.be.at.least(compact).and.at.most(last - RETENTION)
      const w = cluster.client([follower]).watch('c/k', {startRevision: first})
      const err = await w.next().then(() => undefined, (e: unknown) => e)
      expect(err).to.be.instanceOf(ClientError)
      expect((err as ClientError).codeName).to.equal('OUT_OF_RANGE')
      expect((err as Error).message).to.match(new RegExp(`^the watch cannot start at revision ${first}: it was compacted \\(compact revision \\d+\\); ` +
        'read the current state with raftctl kv get and watch again from its revision \\+ 1$'))
      const live = await batchesUntil(cluster.client([follower]).watch('c/k', {startRevision: last}), last)
      expect(summary(live)).to.deep.equal([`${last}:c/k=${RETENTION + 5}`])
    } finally {
      probe.close()
    }
  })

  it('sends a watch created with progress_notify the current revision at the server\'s interval while it gets no events', async () => {
    const revision = (await client.put('p/other', 'x')).header!.revision
    const probe = new WatchProbe(cluster.node(follower).client)
    try {
      await waitFor(`node ${follower} to apply revision ${revision}`, async () =>
        (await client.get('p/other', {endpoint: cluster.node(follower).client, serializable: true}))?.modRevision === revision)
      probe.send({createRequest: {...watchCreate('p/k').createRequest!, progressNotify: true}})
      await probe.count(3, 15_000)
      const [created, ...progress] = probe.responses
      expect(created.created).to.equal(true)
      for (const r of progress.slice(0, 2)) {
        expect({created: r.created, canceled: r.canceled, events: r.events.length, watchId: r.watchId}).to.deep.equal({created: false, canceled: false, events: 0, watchId: 0n})
        expect(r.header!.revision).to.be.at.least(revision)
      }
    } finally {
      probe.close()
    }
  })

  it('keeps delivering every event, in order and once, to a watch on a follower while the leader is killed', async () => {
    const start = (await client.put('f/0', 'before')).header!.revision
    const w = cluster.client([follower], 10_000).watch('f/', {prefix: true, startRevision: start})
    const seen: WatchBatch[] = []
    const reading = (async () => {
      for await (const b of w) seen.push(b)
    })()
    await waitFor('the watch to see the first write', () => seen.length > 0)
    expect(await cluster.node(leader).stop('SIGKILL')).to.equal(null)
    const rest = [1, 2, 3].filter((id) => id !== leader)
    // Writes wait for the new leader: one a follower forwarded to the dead leader can only time
    // out with an unknown outcome (any member proposes, as etcd's do); the watch spans the kill.
    await cluster.waitLeader(rest)
    const writer = cluster.client(rest, 15_000)
    const values: string[] = []
    for (let i = 1; i <= 10; i++) {
      await writer.put(`f/${i}`, `v${i}`)
      values.push(`f/${i}=v${i}`)
    }
    const last = (await writer.put('f/end', 'x')).header!.revision
    await waitFor(`the watch to reach revision ${last}`, () => w.revision !== undefined && w.revision >= last, {timeoutMs: 30_000})
    w.cancel()
    await reading
    const revisions = seen.map((b) => b.revision)
    expect(revisions, 'in order, none twice').to.deep.equal([...new Set(revisions)].sort((a, b) => a - b))
    const got = seen.flatMap((b) => b.events.map((e) => `${bytesToString(e.kv!.key)}=${bytesToString(e.kv!.value)}`))
    expect(got).to.deep.equal(['f/0=before', ...values, 'f/end=x'])
    expect(w.endpoint, 'the follower served it throughout').to.equal(cluster.node(follower).client)
  })

  it('ends a hasleader stream once its member has known no leader for three election timeouts, refuses a new one, and keeps the others', async () => {
    // The previous test killed the leader; killing one more member leaves `follower` without a quorum.
    const other = [1, 2, 3].find((id) => id !== leader && id !== follower)!
    const required = new WatchProbe(cluster.node(follower).client, {hasleader: 'true'})
    const plain = new WatchProbe(cluster.node(follower).client)
    try {
      required.send(watchCreate('h/k'))
      plain.send(watchCreate('h/k'))
      await required.count(1)
      await plain.count(1)
      expect(await cluster.node(other).stop('SIGKILL')).to.equal(null)
      await required.closed(30_000)
      expect(required.error).to.deep.equal({code: 'UNAVAILABLE', details: 'etcdserver: no leader'})
      const late = new WatchProbe(cluster.node(follower).client, {hasleader: 'true'})
      try {
        late.send(watchCreate('h/k'))
        await late.closed()
        expect(late.error).to.deep.equal({code: 'UNAVAILABLE', details: 'etcdserver: no leader'})
      } finally {
        late.close()
      }
      plain.send(watchCreate('h/j'))
      await plain.count(2)
      expect(plain.error, 'a stream without hasleader stays open').to.equal(undefined)
    } finally {
      required.close()
      plain.close()
    }
  })
})
