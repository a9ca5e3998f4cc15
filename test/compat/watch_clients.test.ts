/**
 * Watches of clients this project did not write, against real raftctl nodes (a 3-node cluster
 * on 127.0.0.1): etcdctl's `watch --rev --prefix --prev-kv` prints the same as against a real
 * etcd 3.4 that received the same writes (simple and json), and so does `raftctl kv watch -w
 * simple --prev-kv`; after the same `etcdctl compact`, a watch from a compacted revision fails
 * with the same output and exit code; the `etcd3` npm client replays a prefix from a past revision with prev_kv,
 * and its watch given only a follower keeps delivering while the leader is killed.
 */
import {expect} from 'chai'
import {Etcd3, type IKeyValue} from 'etcd3'
import type {RaftctlClient} from '../../src/client/index.js'
import {spawnCli} from '../commands/cli_harness.js'
import {ensureBuilt, stopAll, TestCluster, waitFor} from '../integration/harness.js'
import {call, deleteReq, etcdClients, putReq} from './etcd_grpc.js'
import {type EtcdCluster, etcdctl, requireEtcd, startEtcd, stopAllEtcd} from './etcd_harness.js'

/** The same writes for etcd and raftctl: [key, value] puts and [key] deletes. */
const WRITES: Array<[string] | [string, string]> = [['w/a', '1'], ['w/b', '1'], ['w/a', '2'], ['other', 'x'], ['w/b'], ['w/a', '3'], ['w/c', '\u00e9t\u00e9']]
/** Output lines of `watch --prefix --prev-kv w/` over WRITES in simple: type, (prev key, prev value,) key, value. */
const SIMPLE_LINES = 3 + 3 + 5 + 5 + 5 + 3

/** The etcd3 client's events as `put key=value<prev` / `delete key<prev`. */
function recorder(): {seen: string[], put: (kv: IKeyValue, prev?: IKeyValue) => void, del: (kv: IKeyValue, prev?: IKeyValue) => void} {
  const seen: string[] = []
  const fmt = (kind: string, kv: IKeyValue, prev?: IKeyValue): string =>
    `${kind} ${kv.key.toString()}${kind === 'put' ? `=${kv.value.toString()}` : ''}@${kv.mod_revision}${prev === undefined || prev === null ? '' : `<${prev.value.toString()}`}`
  return {seen, put: (kv, prev) => seen.push(fmt('put', kv, prev)), del: (kv, prev) => seen.push(fmt('delete', kv, prev))}
}

describe('compat: etcdctl and the etcd3 client watch raftctl nodes', function () {
  this.timeout(120_000)
  const cluster = new TestCluster()
  let etcd: EtcdCluster
  let client: RaftctlClient
  let leader: number
  let follower: number

  before(async function () {
    this.timeout(240_000)
    requireEtcd(this)
    ensureBuilt()
    etcd = await startEtcd()
    await cluster.bootstrap(3)
    client = cluster.client()
    leader = await cluster.waitLeader()
    follower = [1, 2, 3].find((id) => id !== leader)!
  })

  after(async () => {
    cluster.close()
    await stopAll()
    await stopAllEtcd()
  })

  it('etcdctl watch --rev --prefix --prev-kv prints the same for raftctl as for etcd 3.4 (simple and json), and so does raftctl kv watch', async () => {
    // Both stores are new (revision 1), so the same writes get the same revisions.
    const e = etcdClients(etcd.endpoints()[0])
    try {
      for (const [k, v] of WRITES) {
        if (v === undefined) {
          await call(e.kv, e.kv.deleteRange, deleteReq(k))
          await client.deleteRange(k)
        } else {
          await call(e.kv, e.kv.put, putReq(k, v))
          await client.put(k, v)
        }
      }
    } finally {
      e.close()
    }
    const raftctl = [cluster.node(follower).client]
    const args = ['watch', '--prefix', '--rev', '2', '--prev-kv', 'w/']
    const simple = async (endpoints: readonly string[]): Promise<string> => {
      const r = await etcdctl(endpoints, args, {stopAfterLines: SIMPLE_LINES})
      expect(r.timedOut, r.stderr).to.equal(false)
      return r.stdout.split('\n').slice(0, SIMPLE_LINES).join('\n')
    }
    const expected = await simple(etcd.endpoints())
    expect(expected.split('\n').slice(0, 3), 'etcd printed the first event').to.deep.equal(['PUT', 'w/a', '1'])
    expect(await simple(raftctl)).to.equal(expected)
    // json: the replay comes in one response (etcd sends a catch-up of up to 1000 revisions at
    // once); its events (revisions included) are equal, the headers hold other ids.
    const json = async (endpoints: readonly string[]): Promise<unknown> => {
      const r = await etcdctl(endpoints, ['-w', 'json', ...args], {stopAfterLines: 1})
      return (JSON.parse(r.stdout.split('\n')[0]) as {Events: unknown}).Events
    }
    const etcdEvents = await json(etcd.endpoints())
    expect(etcdEvents).to.have.length(6)
    expect(await json(raftctl)).to.deep.equal(etcdEvents)
    // raftctl's own CLI prints etcdctl's simple format.
    const ours = spawnCli(['kv', 'watch', 'w/', '--prefix', '--rev', '2', '--prev-kv', '-w', 'simple', '--endpoints', raftctl[0]])
    try {
      await ours.waitOutput('w/c\n\u00e9t\u00e9\n')
    } finally {
      const r = await ours.stop('SIGINT')
      expect(r.stdout.split('\n').slice(0, SIMPLE_LINES).join('\n')).to.equal(expected)
    }
    // After the same compaction, a watch from a compacted revision fails the same way.
    for (const endpoints of [etcd.endpoints(), raftctl]) expect((await etcdctl(endpoints, ['compact', '5'])).stdout).to.equal('compacted revision 5\n')
    const compacted = async (endpoints: readonly string[]): Promise<{code: number | null, stdout: string, stderr: string}> => {
      const r = await etcdctl(endpoints, ['watch', '--prefix', '--rev', '3', 'w/'])
      return {code: r.code, stdout: r.stdout, stderr: r.stderr}
    }
    const fromEtcd = await compacted(etcd.endpoints())
    expect(fromEtcd.code, fromEtcd.stderr).to.equal(5)
    expect(await compacted(raftctl)).to.deep.equal(fromEtcd)
  })

  it('the etcd3 client replays a prefix from a past revision with prev_kv and follows live writes', async () => {
    const first = (await client.put('e/a', '1')).header!.revision
    await client.put('e/a', '2')
    await client.deleteRange('e/a')
    const etcd3 = new Etcd3({hosts: cluster.client().endpoints.map((h) => `http://${h}`)})
    try {
      const r = recorder()
      const w = await etcd3.watch().prefix('e/').startRevision(String(first)).withPreviousKV().create()
      w.on('put', r.put).on('delete', r.del)
      await waitFor('the replay', () => r.seen.length === 3)
      await client.put('e/b', 'live')
      await waitFor('the live write', () => r.seen.length === 4)
      expect(r.seen).to.deep.equal([`put e/a=1@${first}`, `put e/a=2@${first + 1}<1`, `delete e/a@${first + 2}<2`, `put e/b=live@${first + 3}`])
      await w.cancel()
    } finally {
      etcd3.close()
    }
  })

  it('the etcd3 client watching only a follower keeps delivering while the leader is killed', async () => {
    const etcd3 = new Etcd3({hosts: `http://${cluster.node(follower).client}`})
    try {
      const r = recorder()
      const w = await etcd3.watch().prefix('k/').create()
      w.on('put', r.put)
      await client.put('k/0', 'before')
      await waitFor('the first event', () => r.seen.length === 1)
      expect(await cluster.node(leader).stop('SIGKILL')).to.equal(null)
      // Writes wait for the new leader: one a follower forwarded to the dead leader can only time
      // out with an unknown outcome (any member proposes, as etcd's do); the watch spans the kill.
      await cluster.waitLeader([1, 2, 3].filter((id) => id !== leader))
      const writer = cluster.client([1, 2, 3].filter((id) => id !== leader), 15_000)
      for (let i = 1; i <= 5; i++) await writer.put(`k/${i}`, `v${i}`)
      await waitFor('every event', () => r.seen.length === 6, {timeoutMs: 30_000})
      expect(r.seen.map((x) => x.replace(/@\d+$/, ''))).to.deep.equal(['put k/0=before', ...[1, 2, 3, 4, 5].map((i) => `put k/${i}=v${i}`)])
      const revs = r.seen.map((x) => Number(x.split('@')[1]))
      expect(revs, 'in revision order').to.deep.equal([...revs].sort((a, b) => a - b))
      await w.cancel()
    } finally {
      etcd3.close()
    }
  })
})
