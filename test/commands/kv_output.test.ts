/**
 * The output model of the kv read commands through the built CLI (no terminal unless said),
 * against a one-node cluster: the simple format by default when piped (exact bytes), -w table,
 * json (etcdctl's), fields, --hex and --print-value-only; binary values read back byte for byte;
 * and etcd's idioms for the whole key space ("" with --prefix or --from-key) and --from-key.
 */
import {expect} from 'chai'
import {randomBytes} from 'node:crypto'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {TestCluster, waitFor} from '../integration/harness.js'
import {
  type CliProcess, errorLine, hasScript, runCli, runCliJson, runCliToFile, runCliTty, spawnCli, stopNodes,
} from './cli_harness.js'

describe('raftctl kv output: formats, binary values and the whole key space', function () {
  this.timeout(60_000)
  let tc: TestCluster
  let E: string[]

  before(async function () {
    this.timeout(120_000)
    tc = new TestCluster()
    await tc.bootstrap(1)
    await tc.waitLeader()
    E = ['--endpoints', tc.node(1).client]
  })

  after(() => stopNodes(tc))

  describe('get', () => {
    before(async () => {
      const c = tc.client()
      for (const k of ['out/a', 'out/b', 'out/c']) await c.put(k, `v-${k}`)
    })

    it('prints a key line and a value line when stdout is not a terminal (simple, as etcdctl)', async () => {
      const r = await runCli(['kv', 'get', 'out/', '--prefix', ...E])
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stdout).to.equal('out/a\nv-out/a\nout/b\nv-out/b\nout/c\nv-out/c\n')
      const keys = await runCli(['kv', 'get', 'out/', '--prefix', '--keys-only', ...E])
      expect(keys.stdout).to.equal('out/a\nout/b\nout/c\n')
      const count = await runCli(['kv', 'get', 'out/', '--prefix', '--count-only', ...E])
      expect(count.stdout).to.equal('3\n')
      const values = await runCli(['kv', 'get', 'out/', '--prefix', '--print-value-only', ...E])
      expect(values.stdout).to.equal('v-out/a\nv-out/b\nv-out/c')
      const hex = await runCli(['kv', 'get', 'out/a', '--hex', ...E])
      const esc = (t: string): string => [...Buffer.from(t)].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')
      expect(hex.stdout).to.equal(`${esc('out/a')}\n${esc('v-out/a')}\n`)
    })

    it('prints a table of the key with its value, version and revisions with -w table (the default on a terminal)', async () => {
      const r = await runCli(['kv', 'get', 'out/a', '-w', 'table', ...E])
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stdout).to.match(/KEY\s*│\s*VALUE\s*│\s*VERSION/)
      expect(r.stdout).to.match(/out\/a\s*│\s*v-out\/a\s*│\s*1\s*│/)
      const env = await runCli(['kv', 'get', 'out/a', ...E], {env: {RAFTCTL_WRITE_OUT: 'table'}})
      expect(env.stdout).to.equal(r.stdout)
    })

    it('prints a table by default on a terminal', async function () {
      if (!hasScript()) this.skip() // needs util-linux `script` for a pseudo-terminal
      const r = await runCliTty(['kv', 'get', 'out/a', ...E], [])
      expect(r.code, r.stdout).to.equal(0)
      expect(r.stdout).to.match(/out\/a\s*│\s*v-out\/a\s*│\s*1\s*│/)
    })

    it('prints etcdctl\'s JSON with -w json (base64 keys and values, snake_case, zero values left out) and fields with -w fields', async () => {
      const kv = (await tc.client().get('out/a'))!
      const j = await runCli(['kv', 'get', 'out/a', '-w', 'json', ...E])
      expect(j.code, j.stderr).to.equal(0)
      const json = JSON.parse(j.stdout) as {header: Record<string, number>, kvs: unknown[], count: number}
      expect(Object.keys(json.header)).to.deep.equal(['cluster_id', 'member_id', 'revision', 'raft_term'])
      expect(json.kvs).to.deep.equal([{key: Buffer.from('out/a').toString('base64'), create_revision: kv.createRevision,
        mod_revision: kv.modRevision, version: 1, value: Buffer.from('v-out/a').toString('base64')}])
      expect(json.count).to.equal(1)
      expect(json).to.not.have.property('more')
      const f = await runCli(['kv', 'get', 'out/a', '-w', 'fields', ...E])
      expect(f.stdout).to.match(/^"ClusterID" : \d+\n"MemberID" : \d+\n"Revision" : \d+\n"RaftTerm" : \d+\n"Key" : "out\/a"\n/)
      expect(f.stdout).to.contain('"Value" : "v-out/a"\n"More" : false\n"Count" : 1\n')
    })

    it('refuses --json with -w, and --print-value-only with another format, in one line', async () => {
      const both = await runCliJson<{error: {message: string, code: string}}>(['kv', 'get', 'out/a', '-w', 'json', ...E])
      expect(both.result.code).to.equal(1)
      expect(both.json.error).to.deep.equal({code: 'BAD_ARGUMENT',
        message: '--json and --write-out cannot be combined; --json prints raftctl\'s result object, --write-out json prints etcdctl\'s JSON'})
      const pvo = await runCli(['kv', 'get', 'out/a', '--print-value-only', '-w', 'table', ...E])
      expect(pvo.code).to.equal(1)
      expect(errorLine(pvo)).to.equal('Error: --print-value-only writes the simple output; it cannot be combined with --write-out table')
      const bad = await runCli(['kv', 'get', 'out/a', '-w', 'xml', ...E])
      expect(bad.code).to.not.equal(0)
      expect(errorLine(bad)).to.match(/xml.*simple, json, table, fields/)
      const envJson = await runCliJson<{count: number}>(['kv', 'get', 'out/a', ...E], {env: {RAFTCTL_WRITE_OUT: 'table'}})
      expect(envJson.json.count, 'RAFTCTL_WRITE_OUT gives way to --json').to.equal(1)
    })

  })

  describe('watch', () => {
    const running: CliProcess[] = []
    const watch = (args: string[]): CliProcess => {
      const w = spawnCli(['kv', 'watch', ...args, ...E])
      running.push(w)
      return w
    }
    after(() => { for (const w of running) w.kill() })

    it('prints PUT/DELETE, key and value lines (simple, as etcdctl) when stdout is not a terminal', async () => {
      const c = tc.client()
      const rev = (await c.put('watchs/a', '1')).header!.revision
      await c.deleteRange('watchs/a')
      const w = watch(['watchs/', '--prefix', '--rev', String(rev)])
      await w.waitOutput('DELETE\n')
      const r = await w.stop('SIGINT')
      expect(r.code).to.equal(0)
      expect(r.stdout).to.equal('PUT\nwatchs/a\n1\nDELETE\nwatchs/a\n\n')
    })


    it('prints one etcdctl WatchResponse per revision with -w json (base64)', async () => {
      const c = tc.client()
      const rev = (await c.put('watchw/k', Uint8Array.of(0, 0xff))).header!.revision
      const w = watch(['watchw/k', '--rev', String(rev), '-w', 'json'])
      await w.waitOutput('\n')
      const r = await w.stop('SIGINT')
      expect(JSON.parse(r.stdout.trim())).to.deep.equal({Header: {revision: rev}, Events: [{kv: {key: Buffer.from('watchw/k').toString('base64'),
        create_revision: rev, mod_revision: rev, version: 1, value: 'AP8='}}], CompactRevision: 0, Canceled: false, Created: false})
    })

  })

  describe('binary values', () => {
    it('reads back random bytes (0x00, invalid UTF-8) exactly: kv put --file, then kv get --print-value-only > file', async () => {
      for (const [i, size] of [1, 255, 8192, 70_000].entries()) {
        const bytes = Buffer.concat([Buffer.from([0x00, 0xff, 0xc3, 0x28, 0x0a, 0x0d]), randomBytes(size)])
        const src = join(tc.root, `bin-${i}.in`)
        const dst = join(tc.root, `bin-${i}.out`)
        writeFileSync(src, bytes)
        const put = await runCli(['kv', 'put', `bin/${i}`, '--file', src, ...E])
        expect(put.code, put.stderr).to.equal(0)
        const get = await runCliToFile(['kv', 'get', `bin/${i}`, '--print-value-only', ...E], dst)
        expect(get.code, get.stderr).to.equal(0)
        expect(readFileSync(dst).equals(bytes), `value of ${bytes.length} bytes read back exactly`).to.equal(true)
      }
    })

    it('reports a failed write of the output (a full disk) in one line with exit 1', async function () {
      if (!existsSync('/dev/full')) this.skip() // Linux's always-full device
      const r = await runCliToFile(['kv', 'get', 'bin/0', ...E], '/dev/full')
      expect(r.code).to.equal(1)
      expect(r.stderr.trim()).to.equal('Error: cannot write the output to standard output: ENOSPC: no space left on device, write')
    })

    it('prints a binary value in every format without hanging: raw bytes, escaped and cut in a table, base64 in JSON', async () => {
      const bytes = readFileSync(process.execPath).subarray(0, 8192)
      await tc.client().put('bin/exe', bytes)
      const simple = await runCli(['kv', 'get', 'bin/exe', ...E])
      expect(simple.stdoutBytes.equals(Buffer.concat([Buffer.from('bin/exe\n'), bytes, Buffer.from('\n')]))).to.equal(true)
      const table = await runCli(['kv', 'get', 'bin/exe', '-w', 'table', ...E])
      expect(table.code, table.stderr).to.equal(0)
      expect(table.stdout).to.match(/bin\/exe\s*│\s*\\x7fELF\\x02/)
      expect(table.stdout).to.contain('(1 cell was cut at 80 characters (…); --write-out json prints everything)')
      expect(table.stdout.length).to.be.below(2000)
      // eslint-disable-next-line no-control-regex
      expect(table.stdout).to.not.match(/[\u0000-\u0009\u000b-\u001f\u007f]/)
      const json = await runCli(['kv', 'get', 'bin/exe', '-w', 'json', ...E])
      const kvs = (JSON.parse(json.stdout) as {kvs: Array<{value: string}>}).kvs
      expect(Buffer.from(kvs[0].value, 'base64').equals(bytes)).to.equal(true)
      const result = await runCliJson<{kvs: Array<{value: string, valueEncoding?: string}>}>(['kv', 'get', 'bin/exe', ...E])
      expect(result.json.kvs[0].valueEncoding).to.equal('base64')
      expect(Buffer.from(result.json.kvs[0].value, 'base64').equals(bytes), '--json loses no byte').to.equal(true)
      const hex = await runCli(['kv', 'get', 'bin/exe', '--print-value-only', '--hex', ...E])
      expect(hex.stdout).to.equal(`${[...bytes].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')}\n`)
    })
  })

  describe('the whole key space and --from-key', () => {
    const own = ['ks/a', 'ks/b', 'ks/c']
    before(async () => {
      for (const k of own) await tc.client().put(k, `v-${k}`)
    })

    it('kv get "" --prefix and "" --from-key list every key; KEY --from-key every key from KEY on', async () => {
      const all = await runCliJson<{kvs: Array<{key: string}>, count: number}>(['kv', 'get', '', '--prefix', '--keys-only', ...E])
      expect(all.result.code, all.result.stderr).to.equal(0)
      const everything = (await tc.client().range(Uint8Array.of(0), {rangeEnd: Uint8Array.of(0), keysOnly: true})).kvs.map((kv) => Buffer.from(kv.key).toString('latin1'))
      expect(all.json.count).to.equal(everything.length)
      expect(all.json.kvs.map((k) => k.key)).to.include.members(own)
      const fromEmpty = await runCliJson<{count: number}>(['kv', 'get', '', '--from-key', '--keys-only', ...E])
      expect(fromEmpty.json.count).to.equal(all.json.count)
      const from = await runCli(['kv', 'get', 'ks/b', '--from-key', '--keys-only', ...E])
      expect(from.stdout.split('\n').slice(0, 2)).to.deep.equal(['ks/b', 'ks/c'])
      expect(from.stdout).to.not.contain('ks/a\n')
      const both = await runCli(['kv', 'get', 'ks/', '--prefix', '--from-key', ...E])
      expect(both.code).to.not.equal(0)
      expect(errorLine(both)).to.match(/--from-key=true cannot also be provided when using --prefix|--prefix=true cannot also be provided when using --from-key/)
    })

    it('refuses an empty key alone, naming both ways to ask for every key', async () => {
      for (const cmd of ['get', 'del', 'watch']) {
        const r = await runCli(['kv', cmd, '', ...E])
        expect(r.code, cmd).to.equal(1)
        expect(errorLine(r), cmd).to.equal('Error: the key is empty; give a key, or "" with --prefix or --from-key for every key')
      }
    })

    it('kv watch "" --prefix sees writes to any key', async () => {
      const w = spawnCli(['kv', 'watch', '', '--prefix', '-w', 'table', ...E])
      try {
        await w.waitOutput('Ctrl-C to stop', 'stderr')
        expect(w.stderr).to.contain('watching keys in the whole key space')
        let i = 0
        await waitFor('the watch of every key to see a write', async () => {
          await tc.client().put(`anywhere-${++i}`, 'x')
          return w.stdout.includes('PUT anywhere-')
        }, {timeoutMs: 15_000, intervalMs: 200})
        expect((await w.stop('SIGINT')).code).to.equal(0)
      } finally {
        w.kill()
      }
    })

    it('kv del "" --prefix deletes every key (last: the others need the keys)', async () => {
      const before = (await tc.client().range(Uint8Array.of(0), {rangeEnd: Uint8Array.of(0), countOnly: true})).count
      expect(before).to.be.greaterThan(3)
      const {result, json} = await runCliJson<{deleted: number}>(['kv', 'del', '', '--prefix', ...E])
      expect(result.code, result.stderr).to.equal(0)
      expect(json.deleted).to.equal(before)
      expect((await tc.client().range(Uint8Array.of(0), {rangeEnd: Uint8Array.of(0), countOnly: true})).count).to.equal(0)
    })
  })

})
