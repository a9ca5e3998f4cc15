/**
 * Issue 11 §2 on real processes: a node never runs on after a broken invariant. A corrupt peer
 * message — a MsgHeartbeat whose commit index lies far beyond the receiver's log — is sent
 * through the real peer transport to a follower of a running cluster, as member 3 (a founding
 * member whose process is not started). The core raises "tocommit(…) is out of range" while
 * stepping it; the node must exit at once with a non-zero code and exactly one error line naming
 * the invariant. Its data dir is intact: restarted, it rejoins and serves.
 */
import {expect} from 'chai'
import {bytesToString} from '../../src/client/index.js'
import {MessageType, newMessage} from '../../src/raft/index.js'
import {PeerTransport} from '../../src/transport/index.js'
import {ensureBuilt, type NodeProc, stopAll, TestCluster, waitFor} from './harness.js'

/** Log lines at error level or above (pino: error 50, fatal 60). */
const errorLines = (n: NodeProc): string[] => n.output.split('\n').filter((l) => {
  try {
    return (JSON.parse(l) as {level?: number}).level! >= 50
  } catch {
    return false
  }
})

describe('integration: a broken invariant stops the node (issue 11 §2)', function () {
  this.timeout(120_000)
  const cluster = new TestCluster()
  let transport: PeerTransport | undefined

  before(async function () {
    this.timeout(240_000)
    ensureBuilt()
  })

  after(async () => {
    await transport?.close()
    cluster.close()
    await stopAll()
  })

  it('exits non-zero with one line naming the invariant, and restarts cleanly', async () => {
    const specs = await Promise.all([1, 2, 3].map((id) => cluster.spec(id)))
    const initial = specs.map((s) => `${s.id}=127.0.0.1:${s.peerPort}`).join(',')
    // Nodes 1 and 2 are a quorum of voters 1, 2, 3; the test speaks as node 3.
    for (const s of specs.slice(0, 2)) cluster.add(s, ['--initial-cluster', initial]).start()
    const leader = await cluster.waitLeader([1, 2])
    const victim = cluster.node(leader === 1 ? 2 : 1)
    const client = cluster.client([1, 2])
    await client.put('fatal/before', 'kept')
    await waitFor('the follower to apply the write', async () =>
      (await client.status(victim.client)).raftAppliedIndex >= (await client.status(cluster.node(leader).client)).raftAppliedIndex)
    const st = await client.status(victim.client)
    const commit = 1_000_000
    transport = new PeerTransport({clusterId: Number(st.header!.clusterId), nodeId: 3})
    transport.addPeer(victim.spec.id, victim.peer)
    // Sent again (bounded) in case an election moved the term between the status and the send.
    for (let i = 0; i < 20 && victim.running; i++) {
      const term = (await client.status(victim.client).catch(() => st)).raftTerm
      transport.send([newMessage({msgType: MessageType.MsgHeartbeat, from: 3, to: victim.spec.id, term, commit})])
      await waitFor('the node to exit', () => !victim.running, {timeoutMs: 3000}).catch(() => undefined)
    }
    const code = await victim.waitExit()
    expect(code).to.not.equal(0)
    expect(code).to.not.equal(null)
    const errors = errorLines(victim)
    expect(errors, victim.output.slice(-3000)).to.have.length(1)
    const line = JSON.parse(errors[0]) as {event: string, code: string, msg: string}
    expect(line.event).to.equal('node-failed')
    expect(line.code).to.equal('INVARIANT_VIOLATED')
    expect(line.msg).to.match(new RegExp(`^node ${victim.spec.id} stopped: a Raft invariant was broken: ` +
      `raft: tocommit\\(${commit}\\) is out of range \\[lastIndex\\(\\d+\\)\\]`))
    expect(victim.lines('stopped').length, 'the shutdown completed (RocksDB closed)').to.equal(1)

    // Nothing was corrupted: the node restarts from its data dir, rejoins and serves.
    victim.start()
    await cluster.waitLeader([1, 2])
    const kv = await cluster.client([victim.spec.id]).get('fatal/before')
    expect(kv === undefined ? undefined : bytesToString(kv.value)).to.equal('kept')
    await client.put('fatal/after', 'ok')
    expect(errorLines(victim)).to.have.length(1)
  })
})
