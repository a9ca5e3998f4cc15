/**
 * `raftctl lock` through the built CLI against a real 3-node raftctl cluster: a command run under
 * the lock gets the key and revision and passes its exit code on; the lock is released when the
 * command ends, on SIGINT/SIGTERM (passed on to the command), and a lost session is reported at
 * once with the command signalled; a holder killed with kill -9 loses the lock within its TTL to
 * the next waiter; three waiters get it in arrival order; and etcdctl's lock contends with it on
 * the same name, both ways.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {expect} from 'chai'
import {EtcdClient} from '../../src/client/concurrency/index.js'
import {rangeRequest} from '../../src/client/concurrency/etcd.js'
import {prefixEnd} from '../../src/client/keys.js'
import {etcdctlProcess, stopAllLineProcesses} from '../client/concurrency/helpers.js'
import {requireEtcd} from '../compat/etcd_harness.js'
import {sleep, tempDir, TestCluster, waitFor} from '../integration/harness.js'
import {type CliProcess, runCli, runCliJson, spawnCli, startThreeNodes, stopNodes} from './cli_harness.js'

describe('raftctl lock against a 3-node cluster', function () {
  this.timeout(120_000)
  let tc: TestCluster
  let E: string[]
  let etcd: EtcdClient
  const spawned: CliProcess[] = []

  before(async function () {
    this.timeout(240_000)
    const three = await startThreeNodes()
    tc = three.tc
    E = three.E
    etcd = new EtcdClient(tc.node(1).client)
  })

  afterEach(async () => {
    for (const p of spawned.splice(0)) p.kill()
    await stopAllLineProcesses()
  })

  after(async () => {
    etcd?.close()
    await stopNodes(tc)
  })

  const lock = (args: readonly string[]): CliProcess => {
    const p = spawnCli(['lock', ...E, ...args])
    spawned.push(p)
    return p
  }

  /** The keys under `<name>/`, oldest first. */
  async function keysOf(name: string): Promise<string[]> {
    const prefix = Buffer.from(`${name}/`)
    const res = await etcd.range(rangeRequest(prefix, {rangeEnd: prefixEnd(prefix)}))
    return res.kvs.sort((a, b) => a.createRevision - b.createRevision).map((kv) => Buffer.from(kv.key).toString())
  }

  const leaseOf = (key: string): string => key.slice(key.lastIndexOf('/') + 1)

  it('runs a command with the lock key and revision, exits with its exit code and releases the lock', async () => {
    const r = await runCli(['lock', 'job', ...E, '--', 'sh', '-c', 'printf "%s %s" "$ETCD_LOCK_KEY" "$RAFTCTL_LOCK_REV"; exit 7'])
    expect(r.code, r.stderr).to.equal(7)
    const [key, rev] = r.stdout.split(' ')
    expect(key).to.match(/^job\/[0-9a-f]+$/)
    expect(Number(rev)).to.be.greaterThan(0)
    expect(await keysOf('job')).to.deep.equal([])
    const ok = await runCli(['lock', 'job', ...E, '--', 'true'])
    expect(ok.code, ok.stderr).to.equal(0)
  })

  it('prints one JSON object with --json once the lock is held, with the revisions it gives the command', async () => {
    const result = await runCli(['lock', 'job2', '--json', ...E, '--', 'sh', '-c', 'echo "$RAFTCTL_LOCK_REV $ETCD_LOCK_REV"'])
    expect(result.code, result.stderr).to.equal(0)
    const [line, revs] = result.stdout.trim().split('\n')
    const json = JSON.parse(line) as {name: string, key: string, revision: number, heldAt: number, lease: string}
    expect(json.name).to.equal('job2')
    expect(json.key).to.equal(`job2/${json.lease}`)
    expect(json.revision).to.be.greaterThan(0)
    expect(json.heldAt).to.be.at.least(json.revision)
    expect(revs, 'RAFTCTL_LOCK_REV is the key\'s create revision, ETCD_LOCK_REV the revision it was held at').to.equal(`${json.revision} ${json.heldAt}`)
    const next = JSON.parse((await runCli(['lock', 'job2', '--json', ...E, '--', 'true'])).stdout) as {revision: number}
    expect(next.revision, 'the fencing token grows from holder to holder').to.be.greaterThan(json.revision)
  })

  it('without a command prints the key and holds until SIGINT, then releases and revokes its lease', async () => {
    const p = lock(['held'])
    const key = (await p.waitStdout(/^held\/[0-9a-f]+$/m))[0]
    expect(await keysOf('held')).to.deep.equal([key])
    const r = await p.stop('SIGINT')
    expect(r.code, r.stderr).to.equal(0)
    expect(await keysOf('held')).to.deep.equal([])
    const list = await runCliJson<{leases: string[]}>(['lease', 'list', ...E])
    expect(list.json.leases.map((l) => l.replace(/^0+/, ''))).to.not.include(leaseOf(key))
  })

  it('passes SIGTERM on to the command, exits with its code and releases', async () => {
    const p = lock(['term', '--', 'sh', '-c', 'trap "exit 42" TERM; echo started; while :; do sleep 0.1; done'])
    await p.waitStdout(/started/)
    expect(await keysOf('term')).to.have.length(1)
    const r = await p.stop('SIGTERM')
    expect(r.code, r.stderr).to.equal(42)
    expect(await keysOf('term')).to.deep.equal([])
  })

  it('exits 128+2 when SIGINT kills the command, and releases', async () => {
    const p = lock(['int', '--', 'sh', '-c', 'echo started; exec sleep 30'])
    await p.waitStdout(/started/)
    const r = await p.stop('SIGINT')
    expect(r.code, r.stderr).to.equal(130)
    expect(await keysOf('int')).to.deep.equal([])
  })

  it('reports a lost session at once and sends SIGTERM to the command', async () => {
    const p = lock(['lost', '--ttl', '3', '--', 'sh', '-c', 'echo started; exec sleep 30'])
    await p.waitStdout(/started/)
    const [key] = await keysOf('lost')
    const revoke = await runCli(['lease', 'revoke', leaseOf(key), ...E])
    expect(revoke.code, revoke.stderr).to.equal(0)
    const revokedAt = Date.now()
    const r = await p.done
    expect(r.code).to.equal(1)
    // The session renews every third of its TTL, so it learns of the revoke within about 1 s.
    expect(Date.now() - revokedAt, 'reported within the TTL').to.be.below(3000)
    expect(r.stderr.trim()).to.match(new RegExp(`^Error: lost lock lost: lease ${leaseOf(key)} expired or was revoked: .*; sent SIGTERM to sh$`))
  })

  it('gives the lock to the next waiter when the holder is killed with kill -9, within the TTL', async () => {
    const ttl = 2
    const holder = lock(['k9', '--ttl', String(ttl)])
    const key = (await holder.waitStdout(/^k9\/[0-9a-f]+$/m))[0]
    const waiter = lock(['k9', '--', 'echo', 'acquired'])
    await waiter.waitOutput(`waiting for lock k9 (held by ${key})`, 'stderr')
    await sleep(500)
    expect(waiter.stdout).to.equal('')
    const killedAt = Date.now()
    holder.kill()
    const r = await waiter.done
    const waited = Date.now() - killedAt
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.equal('acquired\n')
    // The lease expires TTL after its last renewal; the leader's lessor and the waiter's watch
    // add a fraction of a second, the process start and exit of the waiter a little more.
    expect(waited, 'lock released within the TTL plus tolerance').to.be.below(ttl * 1000 + 3000)
  })

  it('gives the lock to three waiters in their order of arrival', async () => {
    const out = join(tempDir('raftctl-lock-order-'), 'order')
    const holder = lock(['fifo'])
    await holder.waitStdout(/^fifo\//m)
    const waiters: CliProcess[] = []
    for (const name of ['first', 'second', 'third']) {
      const w = lock(['fifo', '--', 'sh', '-c', `echo ${name} >> '${out}'; sleep 0.2`])
      waiters.push(w)
      await w.waitOutput('waiting for lock fifo', 'stderr')
      await waitFor(`${name}'s key`, async () => (await keysOf('fifo')).length === waiters.length + 1)
    }
    const r = await holder.stop('SIGINT')
    expect(r.code, r.stderr).to.equal(0)
    for (const w of waiters) expect((await w.done).code).to.equal(0)
    expect(readFileSync(out, 'utf8')).to.equal('first\nsecond\nthird\n')
  })

  it('contends with etcdctl lock on the same name, both ways', async function () {
    requireEtcd(this)
    const endpoint = tc.node(2).client
    const ctl = etcdctlProcess(endpoint, ['lock', 'shared', '--ttl', '10'])
    const ctlKey = await ctl.waitLine(/^shared\//)
    const ours = lock(['shared', '--', 'echo', 'ours'])
    await ours.waitOutput(`waiting for lock shared (held by ${ctlKey})`, 'stderr')
    await sleep(500)
    expect(ours.stdout).to.equal('')
    await ctl.stop('SIGINT')
    expect((await ours.done).stdout).to.equal('ours\n')

    const holder = lock(['shared'])
    const ourKey = (await holder.waitStdout(/^shared\/[0-9a-f]+$/m))[0]
    const ctl2 = etcdctlProcess(endpoint, ['lock', 'shared', '--ttl', '10'])
    await waitFor('etcdctl\'s key queued behind ours', async () => (await keysOf('shared')).length === 2)
    await sleep(500)
    expect(ctl2.lines).to.deep.equal([])
    expect((await keysOf('shared'))[0]).to.equal(ourKey)
    expect((await holder.stop('SIGINT')).code).to.equal(0)
    expect(await ctl2.waitLine(/^shared\//)).to.not.equal(ourKey)
  })
})
