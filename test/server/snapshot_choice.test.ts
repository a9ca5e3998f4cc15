/**
 * Which snapshot the leader sends a node that needs one (Snapshotter.send), over a real RocksDB
 * store with entries applied meanwhile: the newest snapshot whose ConfState names the receiver,
 * built at most once per catch-up however often the core asks, a build already under way reused,
 * and never two builds at once.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {expect} from 'chai'
import {inspectSnapshotFile} from '../../src/kv/index.js'
import {EMPTY_BYTES, type Message, MessageType, newMessage, type SnapshotMetadata, StateRole, type Status} from '../../src/raft/index.js'
import {AppliedWaiters} from '../../src/server/proposals.js'
import {Snapshotter} from '../../src/server/snapshotter.js'
import type {NodeLoop} from '../../src/server/loop.js'
import type {PeerTransport} from '../../src/transport/index.js'
import {CS, TestNode} from '../kv/helpers.js'
import {capturingLogger, Gate} from './snapshot_helpers.js'

interface Sent {
  readonly to: number
  readonly meta: SnapshotMetadata
}

/** A transport that takes every snapshot file (reading it to the end) and records what it sent. */
function fakeTransport(sent: Sent[]): PeerTransport {
  return {
    sendSnapshot: async (to: number, msg: Message, chunks: AsyncIterable<Uint8Array>) => {
      for await (const _ of chunks) { /* read like the gRPC sender */ }
      sent.push({to, meta: msg.snapshot!.metadata})
    },
  } as unknown as PeerTransport
}

const follower: Status = {
  id: 1, term: 1, vote: 1, commit: 0, applied: 0, role: StateRole.Follower, leaderId: 0, leadTransferee: 0,
  progress: undefined, confState: CS,
}

describe('server/snapshotter: the snapshot sent to a node that needs one', function () {
  this.timeout(30_000)
  let dir: string
  let n: TestNode
  let gate: Gate
  let s: Snapshotter
  let sent: Sent[]
  let logs: ReturnType<typeof capturingLogger>

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'raftctl-snapchoice-'))
    gate = new Gate()
    n = await TestNode.create(dir, {}, {snapshotPacer: gate.pacer})
    sent = []
    logs = capturingLogger()
    s = new Snapshotter({
      storage: n.rs, kv: n.kv, transport: fakeTransport(sent), loop: {post: () => {}} as unknown as NodeLoop,
      log: logs.log, applied: new AppliedWaiters(0), snapshotCount: 1_000_000, trailing: 5,
      status: () => follower, applyTimeoutMs: 1000,
    })
    for (let i = 0; i < 20; i++) await n.put(`k${i}`, `v${i}`)
    await s.create('a snapshot from before the change')
  })

  afterEach(async () => {
    await s.close()
    await n.close()
    rmSync(dir, {recursive: true, force: true})
  })

  /** Applies a conf change entry that adds `learners` (the ConfState is otherwise CS). */
  async function addLearners(learners: number[]): Promise<void> {
    const index = n.rs.lastIndex() + 1
    await n.rs.persist({entries: [n.entry(index, EMPTY_BYTES)], hardState: {term: 1, vote: 1, commit: index}})
    await n.rs.applyConfChange(index, 1, {
      confState: {...CS, learners},
      putMembers: learners.map((id) => ({id, name: `n${id}`, peerUrls: [`127.0.0.1:${3000 + id}`], clientUrls: []})),
    })
  }

  /** The MsgSnapshot the core sends: it names the snapshot that was the latest when it was made. */
  const msgSnap = (to: number, meta: SnapshotMetadata): Message =>
    newMessage({msgType: MessageType.MsgSnapshot, from: 1, to, term: 1, snapshot: {data: EMPTY_BYTES, metadata: meta}})

  const builtFor = (id: number): number => logs.events('snapshot-created').filter((e) => String(e.reason).includes(`node ${id} `)).length

  it('builds one snapshot naming the learner, and sends that one again however often the core asks', async () => {
    const stale = n.rs.snapshot(0, 0).metadata
    await addLearners([2])
    for (let i = 0; i < 3; i++) {
      await Promise.all([s.send(msgSnap(2, stale)), s.send(msgSnap(2, stale)), n.put(`during/${i}`, 'x')])
      await n.put(`after/${i}`, 'x') // entries keep applying between the core's requests
    }
    expect(sent.length).to.equal(3)
    expect(builtFor(2)).to.equal(1)
    expect(logs.events('snapshot-created')).to.have.length(2)
    const chosen = sent[0].meta
    for (const x of sent) expect(x.meta).to.deep.equal(chosen)
    expect(chosen.confState.learners).to.deep.equal([2])
    expect(chosen.index).to.be.greaterThan(stale.index)
    const file = await inspectSnapshotFile(n.rs.snapshotPath(chosen))
    expect(file.confState.learners, 'the file sent names the learner').to.deep.equal([2])
    expect(file.index).to.equal(chosen.index)
  })

  it('waits for a snapshot being built and sends it when it names the learner, instead of building another', async () => {
    const stale = n.rs.snapshot(0, 0).metadata
    await addLearners([2])
    gate.hold()
    const automatic = s.create('snapshot-count')
    await gate.entered // the automatic build captured its view (after the change) and is held
    await n.put('applied/while-held', 'x')
    const sending = s.send(msgSnap(2, stale))
    gate.release()
    const info = await automatic
    await sending
    expect(sent.map((x) => x.meta)).to.deep.equal([info.metadata])
    expect(info.metadata.confState.learners).to.deep.equal([2])
    expect(builtFor(2)).to.equal(0)
    expect(logs.events('snapshot-created')).to.have.length(2)
  })

  it('serves two learners waiting at once from one build, and never builds two snapshots at the same time', async () => {
    const stale = n.rs.snapshot(0, 0).metadata
    await addLearners([2, 3])
    gate.hold()
    const both = Promise.all([s.send(msgSnap(2, stale)), s.send(msgSnap(3, stale)), s.create('snapshot download')])
    await gate.entered
    await n.put('applied/while-held', 'x')
    gate.release()
    await both
    const created = logs.events('snapshot-created').slice(1)
    expect(created.map((e) => e.reason)).to.deep.equal(['node 2 is not in the latest snapshot', 'snapshot download'])
    expect(sent.map((x) => x.to).sort()).to.deep.equal([2, 3])
    expect(sent[0].meta).to.deep.equal(sent[1].meta)
    expect(sent[0].meta.confState.learners).to.deep.equal([2, 3])
    // Builds are serialized: each one's log line comes after the previous one ended.
    for (let i = 1; i < created.length; i++) {
      const startedAt = Date.parse(String(created[i].time)) - (created[i].ms as number)
      expect(startedAt).to.be.at.least(Date.parse(String(created[i - 1].time)))
    }
  })
})
