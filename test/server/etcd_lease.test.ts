/**
 * etcd's Lease service on a real 3-node raftctl cluster, through a follower's endpoint (etcd
 * clients do not follow redirects): grant, keep-alive, time-to-live with keys, list, revoke
 * (deleting the keys in one revision), puts with a lease, etcd's errors; expiry decided by the
 * leader and applied on every member alike (the same keys at the same revision); leases surviving a leader kill without
 * expiring early; the etcd3 npm client's lease API; etcdctl's lease commands (keep-alive streaming).
 */
import {expect} from 'chai'
import {Metadata} from '@grpc/grpc-js'
import {Etcd3} from 'etcd3'
import type {LeaseKeepAliveResponse} from '../../src/generated/etcd/etcdserverpb/lease.js'
import {call, etcdClients, failureOf, putReq, rangeReq} from '../compat/etcd_grpc.js'
import {etcdBinariesMissing, etcdctl} from '../compat/etcd_harness.js'
import {ensureBuilt, sleep, stopAll, TestCluster, waitFor} from '../integration/harness.js'

type Clients = ReturnType<typeof etcdClients>

const text = (u: Uint8Array): string => Buffer.from(u).toString()

/** One keep-alive over a fresh stream: its answer. */
function keepAliveOnce(c: Clients, id: bigint): Promise<LeaseKeepAliveResponse> {
  const stream = c.lease.leaseKeepAlive(new Metadata(), {deadline: Date.now() + 5000})
  return new Promise((resolve, reject) => {
    stream.on('data', (res: LeaseKeepAliveResponse) => {
      resolve(res)
      stream.end()
    })
    stream.on('error', reject)
    stream.write({ID: id})
  })
}

async function keys(c: Clients, prefix: string): Promise<string[]> {
  const r = await call(c.kv, c.kv.range, rangeReq(prefix, {rangeEnd: Buffer.from(prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1))}))
  return r.kvs.map((kv) => text(kv.key))
}

describe('server: etcd Lease on a 3-node cluster, through a follower\'s endpoint', function () {
  this.timeout(180_000)
  const cluster = new TestCluster()
  let leader: number
  let follower: number
  let other: number
  let c: Clients
  let onOther: Clients

  before(async function () {
    this.timeout(240_000)
    ensureBuilt()
    await cluster.bootstrap(3, ['--lease-checkpoint-interval', '1s'])
    leader = await cluster.waitLeader()
    ;[follower, other] = [1, 2, 3].filter((id) => id !== leader)
    c = etcdClients(cluster.node(follower).client)
    onOther = etcdClients(cluster.node(other).client)
  })

  /** Starts the members a test killed and waits until each serves a linearizable read. */
  async function runningAll(): Promise<void> {
    for (const n of [1, 2, 3]) if (!cluster.node(n).running) cluster.node(n).start()
    for (const n of [1, 2, 3]) {
      const m = etcdClients(cluster.node(n).client)
      try {
        await waitFor(`node ${n} to serve`, () => call(m.kv, m.kv.range, rangeReq('any')).then(() => true))
      } finally {
        m.close()
      }
    }
  }

  after(async () => {
    c?.close()
    onOther?.close()
    cluster.close()
    await stopAll()
  })

  it('grants, attaches keys, keeps alive, reports time to live and keys, lists and revokes, all on followers', async () => {
    const g = await call(c.lease, c.lease.leaseGrant, {TTL: 60, ID: 0n})
    expect(g.ID > 0n && g.ID < 1n << 63n, 'a random positive 63-bit id').to.equal(true)
    expect(g.TTL).to.equal(60)
    expect(g.header!.memberId).to.equal(BigInt(follower))
    const p = await call(c.kv, c.kv.put, putReq('svc/a', 'one', {lease: g.ID}))
    await call(onOther.kv, onOther.kv.put, putReq('svc/b', 'two', {lease: g.ID}))
    const got = await call(onOther.kv, onOther.kv.range, rangeReq('svc/a'))
    expect(got.kvs[0].lease).to.equal(g.ID)
    const ttl = await call(onOther.lease, onOther.lease.leaseTimeToLive, {ID: g.ID, keys: true})
    expect(ttl.grantedTTL).to.equal(60)
    expect(ttl.TTL).to.be.within(55, 60)
    expect(ttl.keys.map(text)).to.deep.equal(['svc/a', 'svc/b'])
    const ka = await keepAliveOnce(c, g.ID)
    expect([ka.ID, ka.TTL]).to.deep.equal([g.ID, 60])
    const list = await call(onOther.lease, onOther.lease.leaseLeases, {})
    expect(list.leases.map((l) => l.ID)).to.include(g.ID)
    const r = await call(c.lease, c.lease.leaseRevoke, {ID: g.ID})
    expect(r.header!.revision).to.equal(p.header!.revision + 2)
    expect(await keys(onOther, 'svc/')).to.deep.equal([])
    const after = await call(onOther.lease, onOther.lease.leaseTimeToLive, {ID: g.ID, keys: true})
    expect([after.TTL, after.grantedTTL]).to.deep.equal([-1, 0])
    expect((await keepAliveOnce(c, g.ID)).TTL, 'a keep-alive of a revoked lease answers TTL 0').to.equal(0)
    expect(await failureOf(call(c.lease, c.lease.leaseRevoke, {ID: g.ID})))
      .to.deep.equal({code: 'NOT_FOUND', details: 'etcdserver: requested lease not found'})
  })

  it('answers etcd\'s errors: an existing id, a too large TTL, a put with an unknown lease', async () => {
    await call(c.lease, c.lease.leaseGrant, {TTL: 60, ID: 4242n})
    expect(await failureOf(call(c.lease, c.lease.leaseGrant, {TTL: 60, ID: 4242n})))
      .to.deep.equal({code: 'FAILED_PRECONDITION', details: 'etcdserver: lease already exists'})
    expect(await failureOf(call(c.lease, c.lease.leaseGrant, {TTL: 9_000_000_001, ID: 0n})))
      .to.deep.equal({code: 'OUT_OF_RANGE', details: 'etcdserver: too large lease TTL'})
    expect((await failureOf(call(c.lease, c.lease.leaseGrant, {TTL: 0, ID: 0n}))).code).to.equal('INVALID_ARGUMENT')
    const onLeader = etcdClients(cluster.node(leader).client)
    try {
      for (const m of [c, onLeader]) {
        expect(await failureOf(call(m.kv, m.kv.put, putReq('x', 'v', {lease: 999n}))), 'refused at apply on a follower, before proposing on the leader')
          .to.deep.equal({code: 'NOT_FOUND', details: 'etcdserver: requested lease not found'})
      }
    } finally {
      onLeader.close()
    }
    await call(c.lease, c.lease.leaseRevoke, {ID: 4242n})
  })

  it('expires a lease nobody keeps alive after its TTL, deleting its keys at the same revision on every member', async () => {
    const start = Date.now()
    const g = await call(c.lease, c.lease.leaseGrant, {TTL: 2, ID: 0n})
    await call(c.kv, c.kv.put, putReq('exp/1', 'v', {lease: g.ID}))
    await call(c.kv, c.kv.put, putReq('exp/2', 'v', {lease: g.ID}))
    await sleep(1000)
    expect(await keys(onOther, 'exp/'), 'alive before its TTL').to.deep.equal(['exp/1', 'exp/2'])
    await waitFor('the lease to expire', async () => (await keys(onOther, 'exp/')).length === 0, {timeoutMs: 10_000, intervalMs: 50})
    const took = Date.now() - start
    expect(took, 'expired after its TTL').to.be.at.least(2000)
    // The leader's lessor ticks every 150 ms here (half the 300 ms election timeout); the rest is
    // the revoke's round through the log and this test's polling.
    expect(took, 'within the TTL plus an election timeout and the round trips').to.be.below(2000 + 300 + 1500)
    const states = await waitFor('every member to apply the revoke', async () => {
      const all = await Promise.all([1, 2, 3].map(async (id) => {
        const m = etcdClients(cluster.node(id).client)
        try {
          const r = await call(m.kv, m.kv.range, rangeReq('\0', {rangeEnd: Buffer.from('\0'), serializable: true}))
          return JSON.stringify([r.header!.revision, r.kvs.map((kv) => [text(kv.key), kv.modRevision, kv.lease.toString()])])
        } finally {
          m.close()
        }
      }))
      return new Set(all).size === 1 ? all : undefined
    }, {timeoutMs: 10_000})
    expect(states, 'every member holds the same keys at the same revision').to.have.length(3)
    const rev = (JSON.parse(states![0]) as [number])[0]
    const hashes = await Promise.all([1, 2, 3].map(async (id) => {
      const m = etcdClients(cluster.node(id).client)
      try {
        return (await call(m.maintenance, m.maintenance.hashKv, {revision: rev})).hash
      } finally {
        m.close()
      }
    }))
    expect(new Set(hashes).size, `HashKV at revision ${rev} on every member: ${hashes.join(', ')}`).to.equal(1)
  })

  it('serves the etcd3 client\'s lease API: grant with keep-alive, put with the lease, revoke', async () => {
    const client = new Etcd3({hosts: cluster.node(follower).client})
    try {
      const lease = client.lease(2)
      await lease.put('etcd3/k').value('v')
      expect(await client.get('etcd3/k').string()).to.equal('v')
      await sleep(3500)
      expect(await client.get('etcd3/k').string(), 'kept alive beyond its TTL by the client').to.equal('v')
      await lease.revoke()
      expect(await client.get('etcd3/k').string()).to.equal(null)
    } finally {
      client.close()
    }
  })

  it('serves etcdctl\'s lease commands through a follower: grant, put --lease, keep-alive (streaming), timetolive --keys, list, revoke', async function () {
    if (etcdBinariesMissing() !== undefined) this.skip()
    const ep = [cluster.node(follower).client]
    const run = async (...args: string[]): Promise<string> => {
      const r = await etcdctl(ep, args)
      expect(r.code, `etcdctl ${args.join(' ')}: ${r.stderr}`).to.equal(0)
      return r.stdout
    }
    const grant = /^lease ([0-9a-f]+) granted with TTL\(5s\)\n$/.exec(await run('lease', 'grant', '5'))
    expect(grant, 'lease grant prints the id and TTL').to.not.equal(null)
    const id = grant![1]
    expect(await run('put', 'ctl/k', 'v', `--lease=${id}`)).to.equal('OK\n')
    const ka = await etcdctl(ep, ['lease', 'keep-alive', id], {stopAfterLines: 2, timeoutMs: 10_000})
    expect(ka.stdout.split('\n').slice(0, 2)).to.deep.equal([`lease ${id} keepalived with TTL(5)`, `lease ${id} keepalived with TTL(5)`])
    expect(await run('lease', 'timetolive', id, '--keys')).to.match(new RegExp(`^lease ${id} granted with TTL\\(5s\\), remaining\\([45]s\\), attached keys\\(\\[ctl/k\\]\\)\\n$`))
    expect(await run('lease', 'list')).to.contain(`\n${id}\n`)
    expect(await run('lease', 'revoke', id)).to.equal(`lease ${id} revoked\n`)
    expect(await run('get', 'ctl/k')).to.equal('')
  })

  it('keeps leases through a leader kill: none expires early, keep-alives go on with the new leader', async () => {
    const g = await call(c.lease, c.lease.leaseGrant, {TTL: 8, ID: 0n})
    const granted = Date.now()
    await call(c.kv, c.kv.put, putReq('kill/k', 'v', {lease: g.ID}))
    await cluster.node(leader).stop('SIGKILL')
    const survivor = [follower, other][0]
    const s = etcdClients(cluster.node(survivor).client)
    try {
      await waitFor('a new leader', async () => {
        const ttl = await call(s.lease, s.lease.leaseTimeToLive, {ID: g.ID, keys: false}).catch(() => undefined)
        return ttl !== undefined && ttl.TTL > 0
      }, {timeoutMs: 20_000})
      const left = 8000 - (Date.now() - granted)
      if (left > 1000) {
        await sleep(left - 700)
        expect((await call(s.kv, s.kv.range, rangeReq('kill/k'))).kvs, 'not expired before its TTL').to.have.length(1)
      }
      expect((await keepAliveOnce(s, g.ID)).TTL).to.equal(8)
      await call(s.lease, s.lease.leaseRevoke, {ID: g.ID})
    } finally {
      s.close()
    }
  })

  it('checkpoints remaining TTLs, so a new leader does not give a long lease its full TTL again', async () => {
    await runningAll()
    const s0 = etcdClients(cluster.node(follower).client)
    let id: bigint
    try {
      id = (await call(s0.lease, s0.lease.leaseGrant, {TTL: 30, ID: 0n})).ID
    } finally {
      s0.close()
    }
    await sleep(4000)
    const lead = await cluster.waitLeader()
    await cluster.node(lead).stop('SIGKILL')
    const survivor = [1, 2, 3].find((n) => n !== lead && cluster.node(n).running)!
    const s = etcdClients(cluster.node(survivor).client)
    try {
      const t = await waitFor('the new leader\'s lessor', async () => {
        const r = await call(s.lease, s.lease.leaseTimeToLive, {ID: id, keys: false}).catch(() => undefined)
        return r !== undefined && r.TTL > 0 ? r : undefined
      })
      expect(t.grantedTTL).to.equal(30)
      expect(t.TTL, 'the checkpointed remaining TTL (about 26 s, plus an election timeout), not the full 30 s').to.be.at.most(28)
      expect((await keepAliveOnce(s, id)).TTL, 'a keep-alive renews the full TTL').to.equal(30)
      expect((await call(s.lease, s.lease.leaseTimeToLive, {ID: id, keys: false})).TTL).to.be.at.least(29)
      await call(s.lease, s.lease.leaseRevoke, {ID: id})
    } finally {
      s.close()
    }
    cluster.node(lead).start()
  })

  it('keeps leases and their keys through a restart of every member, and still expires them afterwards', async () => {
    await runningAll()
    const s = etcdClients(cluster.node(follower).client)
    let id: bigint
    try {
      await waitFor('all three members', async () => (await call(s.cluster, s.cluster.memberList, {linearizable: true})).members.length === 3)
      id = (await call(s.lease, s.lease.leaseGrant, {TTL: 4, ID: 0n})).ID
      await call(s.kv, s.kv.put, putReq('restart/k', 'v', {lease: id}))
    } finally {
      s.close()
    }
    await Promise.all([1, 2, 3].map((n) => cluster.node(n).stop('SIGTERM')))
    for (const n of [1, 2, 3]) cluster.node(n).start()
    await cluster.waitLeader()
    const r = etcdClients(cluster.node(follower).client)
    try {
      const ttl = await waitFor('the new leader\'s lessor', async () => {
        const t = await call(r.lease, r.lease.leaseTimeToLive, {ID: id, keys: true}).catch(() => undefined)
        return t !== undefined && t.TTL >= 0 ? t : undefined
      })
      expect(ttl.TTL, 'the lease survived the restart').to.be.greaterThan(0)
      expect(ttl.keys.map(text)).to.deep.equal(['restart/k'])
      await waitFor('the lease to expire after the restart', async () => (await keys(r, 'restart/')).length === 0, {timeoutMs: 15_000})
    } finally {
      r.close()
    }
  })
})
