/**
 * Differential run of etcdctl's member commands: every `member` case of
 * test/compat/fixtures/etcdctl/cluster.txt (list in every format, add --learner, promote of a
 * learner that never started and of a voter, update, remove, the refusals) runs in order against
 * a fresh single-member etcd 3.4 named e1 and against a fresh single-node raftctl named e1, and the
 * outputs must be equal once normalized: the ids (learned from the member lists by name, as the
 * golden-file test does), the ports, the cluster id and the Raft term. The raftctl node gets a
 * large id, as etcd's are, so that its id never matches another number of the output.
 *
 * One case differs on purpose and is compared with raftctl's own answer (DIFFERENT):
 * etcd 3.4's MemberUpdate turns a learner into a voter in its member record (etcdctl then lists
 * it with IS LEARNER false, although the Raft configuration still has it as a learner); raftctl
 * keeps the learner a learner (docs/etcd-compatibility.md).
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {expect} from 'chai'
import {call, etcdClients} from './etcd_grpc.js'
import {requireEtcd, stopAllEtcd} from './etcd_harness.js'
import {etcdThenRaftctl, runCases} from './etcdctl_cases.js'
import {EtcdctlText} from './etcdctl_text.js'
import {ensureBuilt, stopAll, TestCluster} from '../integration/harness.js'

const FILE = join(fileURLToPath(new URL('fixtures/etcdctl', import.meta.url)), 'cluster.txt')
const RAFTCTL_ID = 3_141_592_653_589_793

/**
 * The one case where raftctl answers differently on purpose, by its line in cluster.txt (checked
 * to be the command named): the member list after `member update` of learner m1, in which etcd 3.4
 * shows m1 as a voter and raftctl still as the learner it is.
 */
const DIFFERENT = {line: 103, command: 'etcdctl -w table member list',
  raftctl: (etcd: string): string => etcd.replace(/^(\| <ID:m1> \|.*\|) +false \|$/m, '$1       true |')}

const memberOnly = (args: readonly string[]): boolean => args.includes('member')
const normalized = (s: string): string => s
  .replace(/"raft_term":\d+/g, '"raft_term":<TERM>').replace(/"RaftTerm" : \d+/g, '"RaftTerm" : <TERM>')

async function outputs(endpoint: string): Promise<Map<string, string>> {
  const c = etcdClients(endpoint)
  const text = new EtcdctlText()
  const learn = async (): Promise<void> => {
    const list = await call(c.cluster, c.cluster.memberList, {linearizable: false})
    text.learn(list.header!.clusterId, '', list.members)
  }
  try {
    const out = await runCases(FILE, [endpoint], text, learn, memberOnly)
    return new Map([...out].map(([pos, s]) => [pos, normalized(s)]))
  } finally {
    c.close()
  }
}

describe('compat: etcdctl member commands, etcd 3.4 and raftctl side by side', function () {
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

  it('prints the same output for every member case of cluster.txt', async () => {
    const {expected, actual} = await etcdThenRaftctl(cluster, outputs, {id: RAFTCTL_ID, name: 'e1'})
    expect(readFileSync(FILE, 'utf8').split('\n')[DIFFERENT.line - 1], 'the deliberately different case').to.equal(DIFFERENT.command)
    const key = `${FILE}:${DIFFERENT.line}`
    expect(expected.get(key), 'etcd lists the updated learner as a voter').to.match(/^\| <ID:m1> \|.* false \|$/m)
    expected.set(key, DIFFERENT.raftctl(expected.get(key)!))
    expect(actual.size, 'every case ran').to.equal(expected.size).and.to.be.greaterThan(15)
    const diffs = [...expected].filter(([pos, want]) => actual.get(pos) !== want).map(([pos, want]) => `${pos}\n--- etcd\n${want}--- raftctl\n${actual.get(pos)}`)
    expect(diffs.join('\n')).to.equal('')
  })
})
