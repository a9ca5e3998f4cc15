/**
 * `raftctl lease grant / list / timetolive / keep-alive / revoke` through the built CLI against a
 * real 3-node raftctl cluster: ids in hex as etcdctl prints them, etcdctl's formats (-w json with
 * exact decimal ids), --json, a key attached to a lease deleted on revoke, a lease kept alive
 * past its TTL by `keep-alive` and expiring once it stops, one-line errors, and failover past an
 * unreachable first endpoint.
 */
import {expect} from 'chai'
import {EtcdClient} from '../../src/client/concurrency/index.js'
import {putRequest, rangeRequest} from '../../src/client/concurrency/etcd.js'
import {freePorts, sleep, TestCluster, waitFor} from '../integration/harness.js'
import {errorLine, runCli, runCliJson, spawnCli, startThreeNodes, stopNodes} from './cli_harness.js'

const HEX_ID = /^lease ([0-9a-f]{16}) granted with TTL\((\d+)s\)$/

describe('raftctl lease commands against a 3-node cluster', function () {
  this.timeout(120_000)
  let tc: TestCluster
  let E: string[]
  let etcd: EtcdClient

  before(async function () {
    this.timeout(240_000)
    const three = await startThreeNodes()
    tc = three.tc
    E = three.E
    etcd = new EtcdClient(tc.node(1).client)
  })

  after(async () => {
    etcd?.close()
    await stopNodes(tc)
  })

  /** Grants a lease through the CLI and returns its hex id. */
  async function grant(ttl: number): Promise<string> {
    const r = await runCli(['lease', 'grant', String(ttl), ...E])
    expect(r.code, r.stderr).to.equal(0)
    const m = r.stdout.trim().match(HEX_ID)
    expect(m, r.stdout).to.not.equal(null)
    expect(Number(m![2])).to.equal(ttl)
    return m![1]
  }

  const has = async (key: string): Promise<boolean> => (await etcd.range(rangeRequest(Buffer.from(key)))).kvs.length === 1

  it('grants a lease, lists it in hex and in etcdctl\'s JSON with the exact decimal id', async () => {
    const id = await grant(60)
    const list = await runCli(['lease', 'list', ...E])
    expect(list.code, list.stderr).to.equal(0)
    const lines = list.stdout.trim().split('\n')
    expect(lines[0]).to.match(/^found \d+ leases$/)
    expect(lines.slice(1)).to.include(id)
    const json = await runCli(['lease', 'list', '-w', 'json', ...E])
    expect(json.code, json.stderr).to.equal(0)
    expect(json.stdout).to.include(`{"id":${BigInt(`0x${id}`)}}`)
    const mine = await runCliJson<{leases: string[]}>(['lease', 'list', ...E])
    expect(mine.json.leases).to.include(id)
  })

  it('shows the TTLs and the attached keys with timetolive --keys, in each format', async () => {
    const id = await grant(60)
    await etcd.put(putRequest(Buffer.from('svc/a'), Buffer.from('1'), BigInt(`0x${id}`)))
    const simple = await runCli(['lease', 'timetolive', id, '--keys', ...E])
    expect(simple.code, simple.stderr).to.equal(0)
    expect(simple.stdout.trim()).to.match(new RegExp(`^lease ${id} granted with TTL\\(60s\\), remaining\\((5\\d|60)s\\), attached keys\\(\\[svc/a\\]\\)$`))
    const json = await runCli(['lease', 'timetolive', id, '--keys', '-w', 'json', ...E])
    const j = JSON.parse(json.stdout) as Record<string, unknown>
    expect(j['granted-ttl']).to.equal(60)
    expect(j.keys).to.deep.equal([Buffer.from('svc/a').toString('base64')])
    expect(json.stdout).to.include(`"id":${BigInt(`0x${id}`)},`)
    const fields = await runCli(['lease', 'timetolive', id, '--keys', '-w', 'fields', ...E])
    expect(fields.stdout).to.include(`"ID" : ${BigInt(`0x${id}`)}\n`)
    expect(fields.stdout).to.include('"GrantedTTL" : 60\n')
    expect(fields.stdout).to.include('"Key" : "svc/a"\n')
    const mine = await runCliJson<{id: string, exists: boolean, grantedTtl: number, keys: string[]}>(['lease', 'timetolive', id, '--keys', ...E])
    expect(mine.json).to.include({id, exists: true, grantedTtl: 60})
    expect(mine.json.keys).to.deep.equal(['svc/a'])
  })

  it('renews once with keep-alive --once', async () => {
    const id = await grant(30)
    const r = await runCli(['lease', 'keep-alive', id, '--once', ...E])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.equal(`lease ${id} keepalived with TTL(30)\n`)
    const j = await runCliJson<{id: string, ttl: number}>(['lease', 'keep-alive', id, '--once', ...E])
    expect(j.json).to.deep.equal({id, ttl: 30})
  })

  it('revokes a lease, deleting its keys; the lease is then gone and a second revoke is one error line', async () => {
    const id = await grant(60)
    await etcd.put(putRequest(Buffer.from('svc/r'), Buffer.from('1'), BigInt(`0x${id}`)))
    expect(await has('svc/r')).to.equal(true)
    const r = await runCli(['lease', 'revoke', id, ...E])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.equal(`lease ${id} revoked\n`)
    expect(await has('svc/r')).to.equal(false)
    const list = await runCliJson<{leases: string[]}>(['lease', 'list', ...E])
    expect(list.json.leases).to.not.include(id)
    const ttl = await runCli(['lease', 'timetolive', id, ...E])
    expect(ttl.stdout).to.equal(`lease ${id} already expired\n`)
    const again = await runCli(['lease', 'revoke', id, ...E])
    expect(again.code).to.equal(1)
    expect(errorLine(again)).to.equal(`Error: cannot revoke lease ${id}: etcdserver: requested lease not found`)
    const once = await runCli(['lease', 'keep-alive', id, '--once', ...E])
    expect(once.code).to.equal(1)
    expect(errorLine(once)).to.equal(`Error: lease ${id} expired or was revoked`)
  })

  it('keeps a lease alive past its TTL until SIGINT, after which it expires', async () => {
    const id = await grant(2)
    const ka = spawnCli(['lease', 'keep-alive', id, ...E])
    try {
      await ka.waitStdout(/keepalived with TTL\(2\)\n.*keepalived/s, 10_000)
      await sleep(3000)
      const alive = await runCliJson<{exists: boolean}>(['lease', 'timetolive', id, ...E])
      expect(alive.json.exists, 'still alive after 1.5 TTLs of keep-alive').to.equal(true)
    } finally {
      const r = await ka.stop('SIGINT')
      expect(r.code, r.stderr).to.equal(0)
    }
    await waitFor(`lease ${id} to expire once nobody keeps it alive`, async () =>
      !(await runCliJson<{exists: boolean}>(['lease', 'timetolive', id, ...E])).json.exists, {timeoutMs: 10_000, intervalMs: 500})
  })

  it('serves the registration recipe of docs/coordination.md: a watch on the registry sees the key go when the lease is revoked', async () => {
    const id = await grant(10)
    const watch = spawnCli(['kv', 'watch', 'services/web/', '--prefix', ...E])
    try {
      await watch.waitOutput('watching', 'stderr')
      const put = await runCli(['kv', 'put', 'services/web/host-a', '10.0.0.5:8080', '--lease', id, ...E])
      expect(put.code, put.stderr).to.equal(0)
      await watch.waitStdout(/^PUT\nservices\/web\/host-a\n10\.0\.0\.5:8080\n/)
      expect((await runCli(['lease', 'revoke', id, ...E])).code).to.equal(0)
      await watch.waitStdout(/\nDELETE\nservices\/web\/host-a\n/)
    } finally {
      await watch.stop('SIGINT')
    }
  })

  it('attaches a key to a lease with kv put --lease, and refuses a lease that does not exist', async () => {
    const id = await grant(60)
    const put = await runCli(['kv', 'put', 'svc/p', 'v', '--lease', id, ...E])
    expect(put.code, put.stderr).to.equal(0)
    const ttl = await runCliJson<{keys: string[]}>(['lease', 'timetolive', id, '--keys', ...E])
    expect(ttl.json.keys).to.deep.equal(['svc/p'])
    expect((await runCli(['lease', 'revoke', id, ...E])).code).to.equal(0)
    expect(await has('svc/p')).to.equal(false)
    const gone = await runCli(['kv', 'put', 'svc/p', 'v', '--lease', id, ...E])
    expect(gone.code).to.equal(1)
    expect(errorLine(gone)).to.equal(`Error: lease ${id.replace(/^0+/, '')} does not exist (it was never granted, was revoked or expired)`)
    expect(await has('svc/p')).to.equal(false)
    const bad = await runCli(['kv', 'put', 'svc/p', 'v', '--lease', 'nope', ...E])
    expect(errorLine(bad)).to.match(/^Error: lease id "nope" is not hexadecimal/)
  })

  it('refuses bad ids and TTLs with one line', async () => {
    const bad = await runCli(['lease', 'revoke', 'zz', ...E])
    expect(bad.code).to.equal(1)
    expect(errorLine(bad)).to.equal('Error: lease id "zz" is not hexadecimal; give the id as `raftctl lease list` prints it (e.g. 694d77aa9e38260f)')
    const big = await runCli(['lease', 'timetolive', '8000000000000000', ...E])
    expect(errorLine(big)).to.match(/lease id "8000000000000000" is out of range/)
    const zero = await runCli(['lease', 'grant', '0', ...E])
    expect(zero.code).to.equal(1)
    expect(errorLine(zero)).to.equal('Error: TTL "0" is not a whole number of seconds of at least 1')
  })

  it('moves on past an unreachable first endpoint, and names every endpoint when none answers', async () => {
    const [dead] = await freePorts(1)
    const endpoints = [`127.0.0.1:${dead}`, tc.node(2).client].join(',')
    const r = await runCli(['lease', 'grant', '60', '--endpoints', endpoints])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout.trim()).to.match(HEX_ID)
    const none = await runCli(['lease', 'list', '--endpoints', `127.0.0.1:${dead}`, '--timeout', '1s'])
    expect(none.code).to.equal(1)
    expect(errorLine(none)).to.match(new RegExp(`^Error: no endpoint answered within 1000 ms \\(127\\.0\\.0\\.1:${dead}: .*ECONNREFUSED.*\\); check --endpoints$`))
  })
})
