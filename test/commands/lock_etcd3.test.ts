/**
 * The etcd3 npm client's lock() and election() (their own key schemes: one key per lock, a
 * prefix of lease-named keys per election) run the same scenario against a real etcd 3.4 and
 * against a raftctl cluster; the transcripts (outcomes, error classes, leaders, keys with lease
 * ids replaced by their order of appearance) must be equal. This is what `raftctl lock` and
 * `raftctl elect` users mixing clients rely on: raftctl answers these recipes as etcd does.
 */
import {expect} from 'chai'
import {Etcd3} from 'etcd3'
import {settledWithin} from '../client/concurrency/helpers.js'
import {type EtcdCluster, requireEtcd, startEtcd, stopAllEtcd} from '../compat/etcd_harness.js'
import {ensureBuilt, stopAll, TestCluster, waitFor} from '../integration/harness.js'

/** Replaces each lease id (hex of 8-16 digits, or decimal as etcd3 writes it in keys) by L1, L2, ... in order of first appearance. */
function normalizeIds(lines: readonly string[]): string[] {
  const seen = new Map<string, string>()
  return lines.map((l) => l.replace(/\b(?:\d{12,20}|[0-9a-f]{8,16})\b/g, (id) => {
    if (!seen.has(id)) seen.set(id, `L${seen.size + 1}`)
    return seen.get(id)!
  }))
}

const errName = (err: unknown): string => (err as Error).constructor.name

async function keys(client: Etcd3, prefix: string): Promise<string> {
  return (await client.getAll().prefix(prefix).keys()).sort().join(',')
}

/** The lock scenario: exclusive acquire, release, do(), a lock released by revoking its lease. */
async function lockScenario(client: Etcd3): Promise<string[]> {
  const t: string[] = []
  const l1 = client.lock('res').ttl(5)
  await l1.acquire()
  t.push(`l1 acquired; keys ${await keys(client, 'res')}; value is the lease: ${(await client.get('res').string()) === null ? 'no' : 'yes'}`)
  const l2 = client.lock('res').ttl(5)
  await l2.acquire().then(() => t.push('l2 acquired while l1 held'), (err) => t.push(`l2 refused: ${errName(err)}`))
  t.push(`do() while held: ${await client.lock('res').do(() => Promise.resolve('ran')).catch((err) => errName(err))}`)
  await l1.release()
  t.push(`l1 released; keys ${await keys(client, 'res')}`)
  await l2.acquire()
  t.push(`l2 acquired; holds a lease: ${(await l2.leaseId()) !== null}`)
  await client.lease(5).revoke().catch((err) => t.push(`revoke of an unused lease: ${errName(err)}`))
  await l2.release()
  t.push(`do() when free: ${await client.lock('res').ttl(5).do(() => Promise.resolve('ran'))}; keys ${await keys(client, 'res')}`)
  return normalizeIds(t)
}

/** The election scenario: campaign, a queued campaigner, proclaim, resign, observe. */
async function electionScenario(client: Etcd3): Promise<string[]> {
  const t: string[] = []
  const election = client.election('el', 5)
  const observer = await election.observe()
  try {
    const c1 = election.campaign('a')
    await c1.wait()
    t.push(`a elected; leader ${await election.leader()}; key ${await c1.getCampaignKey()}`)
    const c2 = election.campaign('b')
    const second = await settledWithin(c2.wait(), 500)
    t.push(`b while a leads: ${second === 'pending' ? 'waiting' : 'elected'}`)
    await c1.proclaim('a2')
    t.push(`after proclaim: ${await election.leader()}`)
    await c1.resign()
    await c2.wait()
    t.push(`a resigned: leader ${await election.leader()}; key ${await c2.getCampaignKey()}`)
    await c1.proclaim('late').then(() => t.push('proclaim after resign accepted'), (err) => t.push(`proclaim after resign: ${errName(err)}`))
    await waitFor('the observer to see b', () => observer.leader() === 'b', {timeoutMs: 10_000})
    t.push(`observer saw ${observer.leader()}; keys ${await keys(client, 'election')}`)
    await c2.resign()
    t.push(`b resigned: leader ${String(await election.leader())}`)
  } finally {
    await observer.cancel()
  }
  return normalizeIds(t)
}

describe('the etcd3 npm client\'s lock() and election() against raftctl, compared with etcd 3.4', function () {
  this.timeout(180_000)
  let etcd: EtcdCluster
  let tc: TestCluster
  let onEtcd: Etcd3
  let onRaftctl: Etcd3

  before(async function () {
    this.timeout(240_000)
    requireEtcd(this)
    ensureBuilt()
    etcd = await startEtcd()
    tc = new TestCluster()
    await tc.bootstrap(3)
    const leader = await tc.waitLeader()
    const follower = [1, 2, 3].find((id) => id !== leader)!
    onEtcd = new Etcd3({hosts: `http://${etcd.endpoints()[0]}`})
    onRaftctl = new Etcd3({hosts: `http://${tc.node(follower).client}`})
  })

  after(async () => {
    onEtcd?.close()
    onRaftctl?.close()
    tc?.close()
    await stopAll()
    await stopAllEtcd()
  })

  it('lock(): the same outcomes and keys', async () => {
    const want = await lockScenario(onEtcd)
    expect(want[1]).to.equal('l2 refused: EtcdLockFailedError')
    expect(await lockScenario(onRaftctl)).to.deep.equal(want)
  })

  it('election(): the same leaders, waits, errors and keys', async () => {
    const want = await electionScenario(onEtcd)
    expect(want[1]).to.equal('b while a leads: waiting')
    expect(await electionScenario(onRaftctl)).to.deep.equal(want)
  })
})
