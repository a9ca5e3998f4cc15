/**
 * Operational behaviour of `raftctl server start` end to end, on real processes:
 *   1. --log-level and --log-format: a warn-level node logs no info line while it serves, a
 *      debug-level JSON node writes only JSON lines with numeric pino levels (debug lines
 *      included) and its notable events with structured fields, text lines are human text, and a
 *      bad value stops the start with one error line naming the flag and the allowed values;
 *   2. a forced voter add: refused without --force when the reachable voters could not form the
 *      new quorum, accepted with it, and the voter removed again while the cluster keeps serving;
 *   3. SIGTERM of a learner while it receives a snapshot: a clean exit, and after a restart on
 *      the same data dir it catches up with every key and leaves no partial snapshot file.
 */
import {expect} from 'chai'
import {existsSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {MemberStatus_Role} from '../../src/generated/raftctl/v1/raftctl.js'
import {bytesToString, RaftctlClient} from '../../src/client/index.js'
import {ensureBuilt, freePorts, NodeProc, stopAll, TestCluster, TICK_ARGS, tempDir, waitFor} from './harness.js'

/** Size and number of the values written before the learner joins (a snapshot of ~6 MB). */
const VALUE_BYTES = 48 * 1024
const KEYS = 120

/** pino's numeric levels. */
const LEVEL = {debug: 20, info: 30, warn: 40, error: 50} as const

/** A crash prints a stack ("    at fn (file:line:col)") or an unhandled-error banner. */
const CRASH_RE = /^\s+at .+:\d+:\d+\)?$|Unhandled|uncaught|TypeError|ReferenceError/m

/** A single-node cluster of its own, started with `extra` flags, with a client for it. */
async function singleNode(id: number, extra: readonly string[]): Promise<{node: NodeProc, client: RaftctlClient}> {
  const dir = tempDir()
  const [clientPort, peerPort] = await freePorts(2)
  const node = new NodeProc({id, clientPort, peerPort, dataDir: join(dir, 'data')}, [
    '--id', String(id), '--data-dir', join(dir, 'data'),
    '--listen-client', `127.0.0.1:${clientPort}`, '--listen-peer', `127.0.0.1:${peerPort}`, ...TICK_ARGS, ...extra,
  ]).start()
  const client = new RaftctlClient({endpoints: [node.client], timeoutMs: 5000})
  await waitFor(`node ${id} to lead`, async () => (await client.status()).leader === id, {timeoutMs: 20_000})
  return {node, client}
}

/** Every file below `dir`, as paths relative to it. */
function filesUnder(dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel), {withFileTypes: true}).flatMap((e) =>
    e.isDirectory() ? filesUnder(dir, join(rel, e.name)) : [join(rel, e.name)])
}

describe('integration: server operations', function () {
  this.timeout(60_000)
  const clients: RaftctlClient[] = []

  before(function () {
    this.timeout(240_000)
    ensureBuilt()
  })

  after(async () => {
    for (const c of clients) c.close()
    await stopAll()
  })

  describe('--log-level and --log-format', () => {
    it('logs no info line at --log-level warn while serving, but still its warnings, as human text', async () => {
      const {node, client} = await singleNode(1, ['--log-level', 'warn', '--log-format', 'text'])
      clients.push(client)
      const put = await client.put('k', 'v')
      expect(put.header!.revision).to.be.greaterThan(0)
      expect(bytesToString((await client.get('k'))!.value)).to.equal('v')
      // A learner that never starts: the leader warns once that it is unreachable.
      const [dead] = await freePorts(1)
      await client.memberAdd({id: 2, peerUrls: [`127.0.0.1:${dead}`], isLearner: true})
      await waitFor('the warning that node 2 is unreachable', () => /WARN.*peer 2 is unreachable/.test(node.output))
      expect(await node.stop('SIGTERM'), 'exit code on SIGTERM').to.equal(0)
      const lines = node.output.split('\n').filter((l) => l !== '')
      expect(lines.length).to.be.greaterThan(0)
      for (const l of lines) {
        expect(l, 'a warn-level text line').to.match(/^\[\d\d:\d\d:\d\d\.\d{3}\] (WARN|ERROR)/)
        expect(() => JSON.parse(l), `a text line is not JSON: ${l}`).to.throw()
      }
      expect(node.output).to.not.match(/INFO|DEBUG|became leader|became-leader|serving clients|stopped/)
    })

    it('writes only JSON lines at --log-level debug --log-format json, with levels and structured events', async () => {
      const {node, client} = await singleNode(1, ['--log-level', 'debug', '--log-format', 'json'])
      clients.push(client)
      await client.put('k', 'v')
      let err: unknown
      await client.memberRemove(77).catch((e) => { err = e })
      expect((err as {codeName?: string})?.codeName).to.equal('NOT_FOUND')
      const st = await client.status()
      await waitFor('the failed request logged at debug', () => node.events('request-failed').length > 0)
      expect(await node.stop('SIGTERM'), 'exit code on SIGTERM').to.equal(0)
      const lines = node.output.split('\n').filter((l) => l !== '')
      const records = lines.map((l) => {
        expect(() => JSON.parse(l), `a JSON line: ${l}`).to.not.throw()
        return JSON.parse(l) as Record<string, unknown>
      })
      for (const r of records) {
        expect(Object.values(LEVEL), `level of ${JSON.stringify(r)}`).to.include(r.level)
        expect(r.node).to.equal(1)
        expect(r.time).to.be.a('string')
        expect(r.event).to.be.a('string')
        expect(r.msg).to.be.a('string')
      }
      const leader = records.filter((r) => r.event === 'became-leader')
      expect(leader).to.have.length(1)
      expect(leader[0].level).to.equal(LEVEL.info)
      expect(leader[0].term).to.equal(st.raftTerm)
      expect(records.find((r) => r.event === 'term-changed')).to.include({level: LEVEL.info, term: st.raftTerm})
      const failed = records.filter((r) => r.event === 'request-failed')
      expect(failed.map((r) => r.level)).to.deep.equal([LEVEL.debug])
      expect(failed[0]).to.include({code: 'NOT_FOUND'})
      expect(records.map((r) => r.event)).to.include.members(['starting', 'serving', 'stopping', 'stopped'])
    })

    for (const [flag, value, allowed] of [['--log-level', 'loud', 'debug, info, warn, error'], ['--log-format', 'xml', 'text, json']]) {
      it(`refuses ${flag} ${value} with one error line naming the flag and the allowed values`, async () => {
        const dir = tempDir()
        const [clientPort, peerPort] = await freePorts(2)
        const node = new NodeProc({id: 1, clientPort, peerPort, dataDir: join(dir, 'data')}, [
          '--data-dir', join(dir, 'data'), '--listen-client', `127.0.0.1:${clientPort}`,
          '--listen-peer', `127.0.0.1:${peerPort}`, flag, value,
        ]).start()
        expect(await node.waitExit(20_000), 'exit code').to.equal(1)
        expect(node.output).to.equal(`Error: flag ${flag}: "${value}" must be one of ${allowed}\n`)
        expect(existsSync(join(dir, 'data')), 'no data dir is created').to.equal(false)
      })
    }
  })

  describe('a forced voter add', function () {
    const cluster = new TestCluster()
    after(() => cluster.close())

    it('is refused without --force while a voter is down, accepted with it, and the voter removed again', async function () {
      this.timeout(90_000)
      await cluster.bootstrap(3)
      const leader = await cluster.waitLeader()
      const client = cluster.client()
      const down = [1, 2, 3].find((id) => id !== leader)!
      expect(await cluster.node(down).stop('SIGTERM'), `node ${down} exits 0 on SIGTERM`).to.equal(0)
      await waitFor(`the leader to see node ${down} as unreachable`, async () => {
        const list = await client.memberList({endpoint: cluster.node(leader).client})
        return list.members.find((m) => m.member?.id === down)?.recentActive === false
      }, {timeoutMs: 15_000})
      const [deadPeer] = await freePorts(1)
      const add = {id: 9, peerUrls: [`127.0.0.1:${deadPeer}`]}
      let refused: unknown
      await client.memberAdd(add).catch((e) => { refused = e })
      expect((refused as {codeName?: string})?.codeName, 'a voter add with a member down (etcd\'s "unhealthy cluster")').to.equal('UNAVAILABLE')
      expect((refused as Error).message).to.equal('adding voter 9 would leave 4 voters, which need 3 for a quorum, ' +
        'but only 2 of them are reachable now; add it as a learner first (member add --learner), or force it (member add --force)')
      expect((await client.memberList()).confState!.voters, 'nothing changed').to.deep.equal([1, 2, 3])
      const forced = await client.memberAdd({...add, force: true})
      expect(forced.members.map((m) => Number(m.ID))).to.deep.equal([1, 2, 3, 9])
      expect(forced.member!.ID).to.equal(9n)
      expect(forced.member!.peerURLs).to.deep.equal(add.peerUrls.map((u) => `http://${u}`))
      expect(forced.member!.isLearner, 'added as a voter').to.equal(false)
      // 4 voters need 3: the stopped node must come back before anything else commits.
      cluster.node(down).start()
      const now = await cluster.waitLeader([1, 2, 3])
      expect((await cluster.client([now]).memberList()).confState!.voters, 'the forced voter counts').to.deep.equal([1, 2, 3, 9])
      const removed = await cluster.client([now]).memberRemove(9)
      expect(removed.members.map((m) => Number(m.ID))).to.not.include(9)
      expect((await cluster.client([now]).memberList()).confState!.voters).to.deep.equal([1, 2, 3])
      const put = await client.put('after-forced-add', 'ok')
      for (const id of [1, 2, 3]) {
        const kv = await client.get('after-forced-add', {endpoint: cluster.node(id).client})
        expect(kv && bytesToString(kv.value), `linearizable read on node ${id}`).to.equal('ok')
        expect(kv!.modRevision).to.equal(put.header!.revision)
      }
    })
  })

  describe('stopping a learner while it receives a snapshot', function () {
    const cluster = new TestCluster()
    after(() => cluster.close())

    it('exits cleanly, then catches up after a restart with every key and no partial snapshot file', async function () {
      this.timeout(120_000)
      const [leaderNode] = await cluster.bootstrap(1, ['--snapshot-count', '20', '--snapshot-catch-up-entries', '0'])
      await cluster.waitLeader([1])
      const client = cluster.client([1])
      const value = (i: number): string => `${i}:`.padEnd(VALUE_BYTES, String.fromCharCode(97 + (i % 26)))
      for (let i = 0; i < KEYS; i += 8) {
        await Promise.all(Array.from({length: 8}, (_, j) => client.put(`big/${String(i + j).padStart(4, '0')}`, value(i + j))))
      }
      // Snapshots are built in the background and paced, so the newest one may still trail the
      // writes: wait until one covers more than half of the keys (a build that ends starts the
      // next when the applied index has moved on by --snapshot-count).
      const ls = await waitFor('the leader to compact its log behind a snapshot of most keys', async () => {
        const st = await client.status()
        return st.raftFirstIndex > 2 && st.snapshotIndex > KEYS / 2 ? st : undefined
      })
      expect(ls.snapshotIndex).to.be.greaterThan(KEYS / 2)
      // Bounded attempts: a learner whose SIGTERM came after the transfer is removed and a fresh
      // one joins (the 6 MB transfer takes tens of ms; the signal follows its first log line).
      let learner: NodeProc | undefined
      for (let attempt = 0; attempt < 3 && learner === undefined; attempt++) {
        const id = 2 + attempt
        const n = cluster.add(await cluster.spec(id), ['--join', leaderNode.client])
        n.start()
        await waitFor(`node ${id} to start receiving a snapshot`, () => n.lines('snapshot-receiving').length > 0,
          {timeoutMs: 30_000, intervalMs: 2})
        expect(await n.stop('SIGTERM'), `node ${id} exits 0 on SIGTERM while receiving a snapshot`).to.equal(0)
        expect(n.output, 'no crash').to.not.match(CRASH_RE)
        expect(n.lines('stopped')).to.have.length(1)
        // A clean stop cuts the transfer and removes its temporary file before exiting.
        expect(readdirSync(join(n.spec.dataDir, 'snap')).filter((f) => f.endsWith('.tmp')), 'partial snapshot files after the stop')
          .to.deep.equal([])
        if (n.lines('snapshot-received').length === 0) {
          learner = n
        } else {
          await client.memberRemove(id)
        }
      }
      expect(learner, 'a SIGTERM landed while a snapshot was in flight (3 attempts)').to.not.equal(undefined)
      const n = learner!
      const id = n.spec.id
      expect(n.lines('snapshot-applied'), 'the interrupted snapshot was not applied').to.have.length(0)
      expect(n.lines('snapshot-receive-failed'), 'the cut transfer is logged').to.have.length(1)
      const before = n.output.length
      n.start()
      const target = (await client.status()).raftCommitIndex
      const st = await waitFor(`node ${id} to catch up to index ${target} after the restart`, async () => {
        const s = await client.status(n.client)
        return s.raftAppliedIndex >= target ? s : undefined
      }, {timeoutMs: 30_000})
      const restarted = n.output.slice(before)
      expect(restarted, 'no crash after the restart').to.not.match(CRASH_RE)
      expect(restarted).to.match(/"event":"restart"/)
      expect(restarted).to.match(/"event":"snapshot-applied"/)
      expect(st.snapshotIndex).to.be.at.least(ls.snapshotIndex)
      const list = await client.memberList()
      expect(list.members.find((m) => m.member?.id === id)?.role).to.equal(MemberStatus_Role.LEARNER)
      for (let i = 0; i < KEYS; i++) {
        const kv = await client.get(`big/${String(i).padStart(4, '0')}`, {endpoint: n.client, serializable: true})
        expect(kv && bytesToString(kv.value), `key ${i} on node ${id}`).to.equal(value(i))
      }
      const files = filesUnder(n.spec.dataDir)
      expect(files.filter((f) => /tmp|staging|partial/i.test(f)), 'leftover temporary files').to.deep.equal([])
      const snaps = files.filter((f) => f.startsWith('snap'))
      expect(snaps.length).to.be.greaterThan(0)
      for (const f of snaps) expect(f).to.match(/^snap\/[0-9a-f]{16}-[0-9a-f]{16}\.snap$/)
      expect(await n.stop('SIGTERM')).to.equal(0)
    })
  })
})
