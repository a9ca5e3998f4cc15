/**
 * etcdctl's maintenance commands against raftctl:
 *
 * - Differential: every case of test/compat/fixtures/etcdctl/maintenance.txt (endpoint status,
 *   health and hashkv, alarm list/disarm, defrag, move-leader) runs in order against a fresh
 *   single-member etcd 3.4 and a fresh single raftctl node (named e1, with a large id so that it
 *   can be told from other numbers), and the outputs must be equal once normalized as the golden
 *   files are (ids, ports, version, sizes, Raft indexes) and, beyond that, the Raft term (which
 *   depends on how each server bootstraps its first election) and HashKV's hash (raftctl hashes
 *   its own history records, not etcd's bbolt keys: docs/etcd-compatibility.md §3).
 * - A 3-node raftctl cluster, given all endpoints or only a follower's: endpoint status/hashkv/
 *   health (also --cluster), snapshot save (+ snapshot status, which cannot read raftctl's file),
 *   move-leader, defrag and alarm list.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {expect} from 'chai'
import {inspectSnapshotFile} from '../../src/kv/index.js'
import {call, etcdClients, putReq} from './etcd_grpc.js'
import {etcdctl, requireEtcd, stopAllEtcd} from './etcd_harness.js'
import {etcdThenRaftctl, runCases} from './etcdctl_cases.js'
import {EtcdctlText, parseTable, renderTable} from './etcdctl_text.js'
import {ensureBuilt, stopAll, TestCluster, waitFor} from '../integration/harness.js'

const FILE = join(fileURLToPath(new URL('fixtures/etcdctl', import.meta.url)), 'maintenance.txt')

/** The raftctl node's id: large, so that EtcdctlText replaces it and nothing else (0xabcdef123456). */
const NODE_ID = 0xabcdef123456

/** Table cells replaced beyond EtcdctlText's, by column. */
const COLUMNS: Partial<Record<string, string>> = {'RAFT TERM': '<TERM>', 'HASH': '<HASH>'}

/** The Raft term and HashKV's hash in every format (see the module comment). */
function termAndHash(text: string): string {
  const lines = text
    .replace(/"(raft_term|raftTerm)":\d+/g, '"$1":<TERM>')
    .replace(/"hash":\d+/g, '"hash":<HASH>')
    .replace(/^(127\.0\.0\.1:<CLIENT_PORT:e1>), \d+$/gm, '$1, <HASH>')
    .replace(/(, (?:true|false), (?:true|false), )\d+(, <RAFT_INDEX>)/g, '$1<TERM>$2')
    .split('\n')
  const out: string[] = []
  for (let i = 0; i < lines.length;) {
    if (!lines[i].startsWith('+')) {
      out.push(lines[i++])
      continue
    }
    const start = i
    while (i < lines.length && (lines[i].startsWith('+') || lines[i].startsWith('|'))) i++
    const rows = parseTable(lines.slice(start, i))
    out.push(...renderTable(rows.map((r, n) => n === 0 ? r : r.map((c, k) => COLUMNS[rows[0][k]] ?? c))))
  }
  return out.join('\n')
}

/** Runs the cases against `endpoint`, learning the cluster, member and version as the golden-file test does. */
async function outputs(endpoint: string): Promise<Map<string, string>> {
  const c = etcdClients(endpoint)
  const text = new EtcdctlText()
  const learn = async (): Promise<void> => {
    const list = await call(c.cluster, c.cluster.memberList, {linearizable: false})
    const status = await call(c.maintenance, c.maintenance.status, {})
    text.learn(list.header!.clusterId, status.version, list.members)
  }
  try {
    const out = await runCases(FILE, [endpoint], text, learn)
    return new Map([...out].map(([pos, s]) => [pos, termAndHash(s)]))
  } finally {
    c.close()
  }
}

describe('compat: etcdctl maintenance commands against raftctl', function () {
  this.timeout(180_000)
  before(function () {
    requireEtcd(this)
    this.timeout(240_000)
    ensureBuilt()
  })
  after(async () => {
    await stopAll()
    await stopAllEtcd()
  })

  it('prints what etcd 3.4 prints for every case of maintenance.txt, modulo ids, version, sizes, term and hash', async () => {
    const cluster = new TestCluster()
    try {
      const {expected, actual} = await etcdThenRaftctl(cluster, outputs, {id: NODE_ID, name: 'e1'})
      expect(actual.size, 'every case ran').to.equal(expected.size).and.to.be.greaterThan(10)
      for (const [pos, want] of expected) expect(actual.get(pos), `${pos}`).to.equal(want)
    } finally {
      cluster.close()
    }
  })

  describe('on a 3-node raftctl cluster', () => {
    const cluster = new TestCluster()
    let leader: number
    let follower: number
    const ep = (id: number): string => cluster.node(id).client
    const all = (): string[] => [1, 2, 3].map(ep)

    before(async function () {
      this.timeout(240_000)
      await cluster.bootstrap(3)
      leader = await cluster.waitLeader()
      follower = [1, 2, 3].find((id) => id !== leader)!
      const c = etcdClients(ep(follower))
      try {
        for (let i = 0; i < 10; i++) await call(c.kv, c.kv.put, putReq(`maint/${i}`, `v${i}`))
      } finally {
        c.close()
      }
    })
    after(() => cluster.close())

    it('endpoint status -w json and -w table: every member its own status, one leader', async () => {
      const r = await etcdctl(all(), ['-w', 'json', 'endpoint', 'status'])
      expect(r.code, r.stderr).to.equal(0)
      const st = JSON.parse(r.stdout) as Array<{Endpoint: string, Status: {header: {member_id: number}, leader: number, isLearner?: boolean, raftTerm: number}}>
      expect(st.map((s) => [s.Endpoint, s.Status.header.member_id, s.Status.leader, s.Status.isLearner]))
        .to.deep.equal([1, 2, 3].map((id) => [ep(id), id, leader, undefined]))
      const f = await etcdctl([ep(follower)], ['-w', 'json', 'endpoint', 'status'])
      expect(f.code, f.stderr).to.equal(0)
      expect((JSON.parse(f.stdout) as typeof st).map((s) => [s.Status.header.member_id, s.Status.leader]), 'a follower only').to.deep.equal([[follower, leader]])
      const t = await etcdctl(all(), ['-w', 'table', 'endpoint', 'status'])
      expect(t.code, t.stderr).to.equal(0)
      const rows = parseTable(t.stdout.trim().split('\n'))
      expect(rows[0]).to.deep.equal(['ENDPOINT', 'ID', 'VERSION', 'DB SIZE', 'IS LEADER', 'IS LEARNER', 'RAFT TERM', 'RAFT INDEX', 'RAFT APPLIED INDEX', 'ERRORS'])
      expect(rows.slice(1).map((x) => [x[0], x[1], x[4], x[5], x[9]]))
        .to.deep.equal([1, 2, 3].map((id) => [ep(id), String(id), String(id === leader), 'false', '']))
    })

    it('a known difference: etcdctl\'s per-endpoint calls to an http:// endpoint (also --cluster\'s) are refused by Node\'s HTTP/2 layer', async () => {
      // etcdctl 3.4 dials each endpoint of `endpoint status`, `endpoint hashkv`, `defrag` and
      // `move-leader` with the URL as the :authority; Node's HTTP/2 server refuses an authority with
      // a scheme before raftctl sees the call (docs/etcd-compatibility.md §3). Plain host:port works.
      const r = await etcdctl([`http://${ep(follower)}`], ['endpoint', 'status'])
      expect(r.code).to.equal(1)
      expect(r.stderr).to.include('stream terminated by RST_STREAM with error code: PROTOCOL_ERROR')
      const get = await etcdctl([`http://${ep(follower)}`], ['get', 'maint/0', '--print-value-only'])
      expect([get.code, get.stdout], 'calls through the balancer work with a scheme').to.deep.equal([0, 'v0\n'])
    })

    it('endpoint hashkv: one hash on every member; endpoint health: every member healthy, also found by --cluster through a follower', async () => {
      const r = await waitFor('one hash on every member', async () => {
        const x = await etcdctl(all(), ['endpoint', 'hashkv'])
        const hashes = new Set(x.stdout.trim().split('\n').map((l) => l.split(', ')[1]))
        return x.code === 0 && hashes.size === 1 ? x : undefined
      })
      expect(r.stdout.trim().split('\n').map((l) => l.split(', ')[0])).to.deep.equal(all())
      const h = await etcdctl([ep(follower)], ['endpoint', 'health', '--cluster'])
      expect(h.code, h.stderr).to.equal(0)
      const healthy = h.stderr.split('\n').filter((l) => / is healthy: successfully committed proposal: took = /.test(l))
      expect(healthy.map((l) => l.split(' ')[0]).sort()).to.deep.equal([1, 2, 3].map((id) => `http://${ep(id)}`).sort())
    })

    it('snapshot save through a follower writes raftctl\'s snapshot file; etcdctl snapshot status cannot read it', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'raftctl-snap-'))
      try {
        const file = join(dir, 'saved.db')
        const save = await etcdctl([ep(follower)], ['snapshot', 'save', file])
        expect([save.code, save.stdout], save.stderr).to.deep.equal([0, `Snapshot saved at ${file}\n`])
        const info = await inspectSnapshotFile(file)
        expect(info.keyCount, 'etcdctl wrote raftctl\'s snapshot file').to.equal(10)
        const st = await etcdctl([ep(follower)], ['snapshot', 'status', file])
        expect([st.code, st.stderr.trim()], 'etcdctl reads bbolt files only').to.deep.equal([1, 'Error: invalid database'])
      } finally {
        rmSync(dir, {recursive: true, force: true})
      }
    })

    it('defrag of every member, and alarm list through a follower', async () => {
      const d = await etcdctl(all(), ['defrag'])
      expect(d.code, d.stderr).to.equal(0)
      expect(d.stdout.trim().split('\n')).to.deep.equal([1, 2, 3].map((id) => `Finished defragmenting etcd member[${ep(id)}]`))
      const a = await etcdctl([ep(follower)], ['alarm', 'list'])
      expect([a.code, a.stdout], a.stderr).to.deep.equal([0, ''])
    })

    it('move-leader: etcdctl looks for the leader among its endpoints and asks it; the transfer is done when it answers', async () => {
      const target = [1, 2, 3].find((id) => id !== leader && id !== follower)!
      const r = await etcdctl(all(), ['move-leader', target.toString(16)])
      expect([r.code, r.stdout], r.stderr).to.deep.equal([0, `Leadership transferred from ${leader.toString(16)} to ${target.toString(16)}\n`])
      const s = await etcdctl([ep(follower)], ['-w', 'json', 'endpoint', 'status'])
      expect((JSON.parse(s.stdout) as Array<{Status: {leader: number}}>)[0].Status.leader).to.equal(target)
      leader = target
      // etcdctl itself refuses when none of its endpoints leads (it never sends the request).
      const only = await etcdctl([ep(follower)], ['move-leader', leader.toString(16)])
      expect([only.code, only.stderr.trim().split('\n').at(-1)]).to.deep.equal([128, `Error: no leader endpoint given at [${ep(follower)}]`])
    })
  })
})
