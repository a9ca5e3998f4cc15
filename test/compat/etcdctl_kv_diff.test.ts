/**
 * Differential run of etcdctl's KV commands: every put, get, del, txn and compact case of
 * test/compat/fixtures/etcdctl/kv.txt (each output format, refusals included) runs in order
 * against a fresh single-member etcd 3.4 and against a fresh single-node raftctl, and the
 * outputs must be equal once normalized: the cluster id, the member id, and the Raft term, which
 * depends on how each server bootstraps its first election. Revisions are NOT
 * normalized: both stores start at revision 1 and must count them the same way. The watch cases
 * are left out until raftctl serves etcd's Watch on the client port.
 */
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {expect} from 'chai'
import {call, etcdClients} from './etcd_grpc.js'
import {requireEtcd, stopAllEtcd} from './etcd_harness.js'
import {etcdThenRaftctl, runCases} from './etcdctl_cases.js'
import {EtcdctlText} from './etcdctl_text.js'
import {ensureBuilt, stopAll, TestCluster} from '../integration/harness.js'

const FILE = join(fileURLToPath(new URL('fixtures/etcdctl', import.meta.url)), 'kv.txt')

/** The commands compared: every case but the watch ones. */
const kvOnly = (args: readonly string[]): boolean => !args.includes('watch')

/**
 * The member id and the Raft term in etcdctl's json and fields outputs (a raftctl member id is a
 * small number, which must not be replaced wherever it appears, as EtcdctlText does with ids).
 */
const normalized = (s: string): string => s
  .replace(/"raft_term":\d+/g, '"raft_term":<TERM>').replace(/"RaftTerm" : \d+/g, '"RaftTerm" : <TERM>')
  .replace(/"member_id":\d+/g, '"member_id":<MEMBER>').replace(/"MemberID" : \d+/g, '"MemberID" : <MEMBER>')

/** Runs the KV cases against `endpoint`; only the cluster id is learned (the KV commands name no member). */
async function outputs(endpoint: string): Promise<Map<string, string>> {
  const c = etcdClients(endpoint)
  const text = new EtcdctlText()
  const learn = async (): Promise<void> => {
    const list = await call(c.cluster, c.cluster.memberList, {linearizable: false})
    text.learn(list.header!.clusterId, '', [])
  }
  try {
    const out = await runCases(FILE, [endpoint], text, learn, kvOnly)
    return new Map([...out].map(([pos, s]) => [pos, normalized(s)]))
  } finally {
    c.close()
  }
}

describe('compat: etcdctl KV commands, etcd 3.4 and raftctl side by side', function () {
  this.timeout(180_000)
  const cluster = new TestCluster()
  before(function () {
    requireEtcd(this)
    this.timeout(240_000)
    ensureBuilt()
  })
  after(async () => {
    cluster.close()
    await stopAll()
    await stopAllEtcd()
  })

  it('prints the same output for every put, get, del, txn and compact case of kv.txt', async () => {
    const {expected, actual} = await etcdThenRaftctl(cluster, outputs)
    expect(actual.size, 'every case ran').to.equal(expected.size).and.to.be.greaterThan(30)
    for (const [pos, want] of expected) expect(actual.get(pos), `${pos}`).to.equal(want)
  })
})
