/**
 * One real node: `raftctl server start` with no flags (ports from the environment so the test
 * never collides with anything on 2379/2380), put/get end to end, restart from disk, clean stop
 * on SIGTERM, and the refused membership operations with their documented errors.
 */
import {expect} from 'chai'
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {status} from '@grpc/grpc-js'
import {bytesToString, ClientError, RaftctlClient} from '../../src/client/index.js'
import {MemberStatus_Role, NodeStatusResponse_RaftState as StatusResponse_RaftState} from '../../src/generated/raftctl/v1/raftctl.js'
import {Compare_CompareResult, Compare_CompareTarget} from '../../src/generated/etcd/etcdserverpb/kv.js'
import {checkHealth} from '../../src/cli/endpoint.js'
import {inspectSnapshotFile} from '../../src/kv/index.js'
import {RAFTCTL_VERSION} from '../../src/server/version.js'
import {ensureBuilt, freePorts, NodeProc, stopAll, tempDir, waitFor} from './harness.js'

async function expectError(p: Promise<unknown>, code: status, pattern: RegExp): Promise<ClientError> {
  try {
    await p
  } catch (err) {
    expect(err).to.be.instanceOf(ClientError)
    const e = err as ClientError
    expect(e.codeName, e.message).to.equal(status[code])
    expect(e.message).to.match(pattern)
    return e
  }
  throw new Error(`expected ${status[code]} matching ${pattern}, but the call succeeded`)
}

describe('integration: one node', function () {
  this.timeout(120_000)
  let node: NodeProc
  let client: RaftctlClient
  let cwd: string

  before(async function () {
    this.timeout(240_000)
    ensureBuilt()
    cwd = tempDir()
    const [clientPort, peerPort] = await freePorts(2)
    node = new NodeProc({id: 1, clientPort, peerPort, dataDir: join(cwd, 'raftctl-data')}, [], {
      RAFTCTL_LISTEN_CLIENT: `127.0.0.1:${clientPort}`, RAFTCTL_LISTEN_PEER: `127.0.0.1:${peerPort}`,
      RAFTCTL_TICK_MS: '30', RAFTCTL_LOG_FORMAT: 'json',
    }, cwd)
    node.start()
    client = new RaftctlClient({endpoints: [node.client], timeoutMs: 5000})
    await waitFor('the single node to lead and publish its client URL', async () => {
      const list = await client.memberList()
      return list.members[0]?.isLeader === true && list.members[0].member?.clientUrls[0] === node.client
    })
  })

  after(async () => {
    client?.close()
    await stopAll()
  })

  it('bootstraps a single-node cluster in ./raftctl-data with no flags', async () => {
    expect(existsSync(join(cwd, 'raftctl-data', 'db'))).to.equal(true)
    const st = await client.status()
    expect(st.id).to.equal(1)
    expect(st.leader).to.equal(1)
    expect(st.confState?.voters).to.deep.equal([1])
    expect(st.name).to.equal('node1')
    expect(st.raftFirstIndex).to.equal(2)
    expect(node.lines('bootstrapped')).to.have.length(1)
  })

  it('serves put and get end to end', async () => {
    const put = await client.put('greeting', 'hello')
    expect(put.header?.revision, 'a new store is at revision 1, as etcd').to.equal(2)
    const kv = await client.get('greeting')
    expect(bytesToString(kv!.value)).to.equal('hello')
    expect(kv!.version).to.equal(1)
    const again = await client.put('greeting', 'hi', {prevKv: true})
    expect(bytesToString(again.prevKv!.value)).to.equal('hello')
    const serial = await client.get('greeting', {serializable: true})
    expect(bytesToString(serial!.value)).to.equal('hi')
    await client.put('dir/a', '1')
    await client.put('dir/b', '2')
    const list = await client.range('dir/', {prefix: true})
    expect(list.kvs.map((k) => bytesToString(k.key))).to.deep.equal(['dir/a', 'dir/b'])
    const del = await client.deleteRange('dir/', {prefix: true})
    expect(del.deleted).to.equal(2)
    const enc = (t: string): Uint8Array => new TextEncoder().encode(t)
    const txn = (expected: string) => client.txn({
      compare: [{result: Compare_CompareResult.EQUAL, target: Compare_CompareTarget.VALUE, key: enc('greeting'), value: enc(expected), rangeEnd: new Uint8Array(0)}],
      success: [{requestPut: {key: enc('txn'), value: enc(`saw ${expected}`), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false}}],
      failure: [{requestRange: {
        key: enc('greeting'), rangeEnd: new Uint8Array(0), limit: 0, revision: 0, sortOrder: 0, sortTarget: 0, serializable: false, keysOnly: false,
        countOnly: false, minModRevision: 0, maxModRevision: 0, minCreateRevision: 0, maxCreateRevision: 0,
      }}],
    })
    const won = await txn('hi')
    expect(won.succeeded).to.equal(true)
    expect(won.responses[0].responsePut).to.not.equal(undefined)
    expect(won.header!.revision).to.equal(del.header!.revision + 1)
    const lost = await txn('hello')
    expect(lost.succeeded).to.equal(false)
    expect(bytesToString(lost.responses[0].responseRange!.kvs[0].value)).to.equal('hi')
    expect(bytesToString((await client.get('txn'))!.value)).to.equal('saw hi')
  })

  it('refuses a second learner beyond --max-learners (default 1)', async () => {
    const [p1, p2] = await freePorts(2)
    await client.memberAdd({id: 2, peerUrls: [`127.0.0.1:${p1}`], isLearner: true})
    await expectError(client.memberAdd({id: 3, peerUrls: [`127.0.0.1:${p2}`], isLearner: true}),
      status.FAILED_PRECONDITION, /already has 1 learner\(s\) and --max-learners is 1/)
  })

  it('refuses to promote a learner that is not caught up, saying how far behind it is', async () => {
    const e = await expectError(client.memberPromote(2), status.FAILED_PRECONDITION,
      /learner 2 is not caught up: its match index 0 is 0% of the leader's last index \d+ \(\d+ entries behind\); promotion needs at least 90%/)
    expect(e.message).to.not.match(/\n/)
  })

  it('refuses to promote a voter as etcd does, saying that it already is one', async () => {
    await expectError(client.memberPromote(1), status.FAILED_PRECONDITION, /^node 1 is already a voter; there is nothing to promote$/)
    expect((await client.memberList()).confState?.voters).to.deep.equal([1])
  })

  it('refuses to add a voter that would break quorum with the reachable members', async () => {
    const [p] = await freePorts(1)
    await expectError(client.memberAdd({id: 4, peerUrls: [`127.0.0.1:${p}`]}), status.UNAVAILABLE,
      /adding voter 4 would leave 2 voters, which need 2 for a quorum, but only 1 of them are reachable now/)
    const list = await client.memberList()
    expect(list.members.map((m) => m.member?.id)).to.deep.equal([1, 2])
  })

  it('refuses bad requests with clear errors', async () => {
    await expectError(client.memberAdd({id: 5, peerUrls: ['not a url']}), status.INVALID_ARGUMENT, /is not host:port/)
    await expectError(client.memberAdd({id: 2, peerUrls: ['127.0.0.1:1'], isLearner: true}), status.FAILED_PRECONDITION, /node 2 is already a member/)
    await expectError(client.memberRemove(9), status.NOT_FOUND, /node 9 is not a member/)
    await expectError(client.leaveJoint(), status.FAILED_PRECONDITION, /not joint/)
    await expectError(client.memberDemote(1), status.FAILED_PRECONDITION, /only voter/)
  })

  it('updates the peer URL of a member', async () => {
    const [p] = await freePorts(1)
    await client.memberUpdate(2, [`127.0.0.1:${p}`])
    const r = await client.memberList()
    expect(r.members.find((m) => m.member?.id === 2)?.member?.peerUrls).to.deep.equal([`127.0.0.1:${p}`])
    expect(r.confState?.learners).to.deep.equal([2])
    await expectError(client.memberUpdate(1, [`127.0.0.1:${p}`]), status.FAILED_PRECONDITION, /already used by node 2/)
    await expectError(client.memberUpdate(1, []), status.INVALID_ARGUMENT, /needs at least one peer URL/)
  })

  it('removes the learner again', async () => {
    await client.memberRemove(2)
    const r = await client.memberList()
    expect(r.confState?.learners).to.deep.equal([])
    expect(r.members.map((m) => m.member?.id)).to.deep.equal([1])
  })

  it('answers concurrent conf changes with one success and a clear refusal, never a silent success', async () => {
    const ports = await freePorts(2)
    const results = await Promise.allSettled([5, 6].map((id, i) =>
      client.memberAdd({id, peerUrls: [`127.0.0.1:${ports[i]}`], isLearner: true})))
    const ok = results.filter((r) => r.status === 'fulfilled')
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[]
    expect(ok).to.have.length(1)
    expect(failed).to.have.length(1)
    expect((failed[0].reason as ClientError).codeName).to.equal('FAILED_PRECONDITION')
    expect((failed[0].reason as Error).message).to.match(/conf change refused|--max-learners is 1/)
    const learners = (await client.memberList()).confState!.learners
    expect(learners).to.have.length(1)
    await client.memberRemove(learners[0])
  })

  it('reports status and health, and streams a snapshot file with its checksum', async () => {
    const st = await client.status()
    expect(st.raftAppliedIndex).to.be.greaterThan(1)
    expect(st.dbSize).to.be.greaterThan(0)
    expect(st.errors).to.deep.equal([])
    expect(st).to.include({id: 1, name: 'node1', version: RAFTCTL_VERSION, leader: 1,
      raftState: StatusResponse_RaftState.LEADER, role: MemberStatus_Role.VOTER})
    expect(st.raftTerm).to.be.at.least(1)
    expect(st.raftCommitIndex).to.be.at.least(st.raftAppliedIndex)
    expect(st.raftLastIndex).to.be.at.least(st.raftCommitIndex)
    expect(st.raftFirstIndex).to.be.within(2, st.raftLastIndex + 1)
    expect(st.confState?.voters).to.deep.equal([1])
    expect(Number(st.header?.clusterId)).to.be.greaterThan(0)
    expect(st.header?.memberId).to.equal(1n)
    const es = await client.etcdStatus()
    expect(es).to.deep.include({leader: 1n, isLearner: false, version: RAFTCTL_VERSION, errors: []})
    expect(es.header).to.deep.include({clusterId: st.header!.clusterId, memberId: 1n})
    expect(es.raftAppliedIndex).to.be.at.least(st.raftAppliedIndex)
    expect(es.raftIndex).to.be.at.least(es.raftAppliedIndex)
    expect(es.raftTerm).to.equal(st.raftTerm)
    const h = await client.hashKv()
    expect((await client.hashKv(undefined, h.header!.revision)).hash, 'the hash at one revision is the same each time').to.equal(h.hash)
    expect(await checkHealth(client, client.endpoints[0])).to.deep.include({health: true, error: ''})
    const dl = await client.snapshot()
    const parts: Uint8Array[] = []
    for await (const c of dl.chunks) parts.push(c)
    const file = join(cwd, 'backup.snap')
    writeFileSync(file, Buffer.concat(parts))
    const info = await inspectSnapshotFile(file, {keys: 100})
    expect(info.checksumOk).to.equal(true)
    expect(info.index).to.be.at.least(st.raftAppliedIndex)
    expect(dl.totalSize).to.equal(Buffer.concat(parts).length)
    expect(info).to.deep.include({compactRevision: 0, keyCount: 2})
    expect(info.records, 'one history record per write since revision 1').to.equal(info.firstKeys.length)
    expect(info.firstKeys[0] && bytesToString(info.firstKeys[0]), 'the history starts with the first put').to.equal('greeting')
    expect([...new Set(info.firstKeys.map((k) => bytesToString(k)))]).to.include.members(['greeting', 'txn'])
    expect(info.confState.voters).to.deep.equal([1])
  })

  it('stops cleanly on SIGTERM during writes and resumes from disk on restart, ignoring bootstrap settings', async () => {
    // Four writers keep proposals in flight while the signal arrives: the node finishes the batch
    // in flight, answers the rest UNAVAILABLE, closes RocksDB and exits 0; no acknowledged
    // write is lost.
    const acked = new Map<string, string>()
    let stop = false
    const writers = [0, 1, 2, 3].map(async (w) => {
      for (let i = 0; !stop; i++) {
        try {
          await client.put(`load/${w}/${i}`, `v${i}`)
          acked.set(`load/${w}/${i}`, `v${i}`)
        } catch {
          return
        }
      }
    })
    await waitFor('40 acknowledged writes', () => acked.size >= 40)
    expect(await node.stop('SIGTERM')).to.equal(0)
    stop = true
    await Promise.all(writers)
    expect(node.lines('stopped')).to.have.length(1)
    expect(node.output).to.not.match(/"level":50|"level":60/)
    node.output = ''
    node.start(['--initial-cluster', '1=127.0.0.1:1'])
    await waitFor('the restarted node to lead', async () => (await client.status()).leader === 1)
    expect(node.lines('restart')).to.have.length(1)
    expect(node.lines('restart')[0]).to.match(/resuming from disk/)
    const kv = await client.get('greeting')
    expect(bytesToString(kv!.value)).to.equal('hi')
    const stored = await client.range('load/', {prefix: true})
    const values = new Map(stored.kvs.map((x) => [bytesToString(x.key), bytesToString(x.value)]))
    for (const [k, v] of acked) expect(values.get(k), `acknowledged write ${k}`).to.equal(v)
    expect((await client.put('after', 'restart')).header?.revision).to.be.greaterThan(1)
    expect(await node.stop('SIGINT')).to.equal(0)
  })

  it('refuses to start on a data dir of another node id', async () => {
    node.output = ''
    node.start(['--id', '7'])
    expect(await node.waitExit(30_000)).to.equal(1)
    expect(node.output).to.match(/belongs to node 1, not node 7/)
  })
})
