/**
 * `raftctl kv put|get|del|txn|watch` run as child processes (no terminal) against a real 3-node
 * cluster: output, --json field by field, exit codes and one-line errors. The output formats,
 * binary values and the whole key space are in kv_output.test.ts.
 */
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {closeSync, openSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {REPO_ROOT, TestCluster, waitFor} from '../integration/harness.js'
import {
  type CliProcess, errorLine, hasScript, runCli, runCliJson, runCliTty, spawnCli, startThreeNodes, stopNodes,
} from './cli_harness.js'

describe('raftctl kv (put, get, del, txn) against a 3-node cluster', function () {
  this.timeout(60_000)
  let tc: TestCluster
  let E: string[]

  before(async function () {
    this.timeout(240_000)
    const three = await startThreeNodes()
    tc = three.tc
    E = three.E
  })

  after(() => stopNodes(tc))

  describe('put', () => {
    it('writes a value given as an argument and prints OK with the revision', async () => {
      const r = await runCli(['kv', 'put', 'put/a', 'alpha', ...E])
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stdout).to.match(/^OK \(revision \d+\)\n$/)
      const kv = await tc.client().get('put/a')
      expect(new TextDecoder().decode(kv!.value)).to.equal('alpha')
    })

    it('returns the revision and the replaced value with --prev-kv --json', async () => {
      await runCli(['kv', 'put', 'put/b', 'one', ...E])
      const {result, json} = await runCliJson<{key: string, revision: number, prevKv: Record<string, unknown>}>(['kv', 'put', 'put/b', 'two', '--prev-kv', ...E])
      expect(result.code).to.equal(0)
      expect(json.key).to.equal('put/b')
      expect(json.revision).to.be.a('number').greaterThan(0)
      expect(json.prevKv).to.deep.include({key: 'put/b', value: 'one', version: 1})
      expect(json.prevKv.modRevision).to.equal(json.prevKv.createRevision)
      const human = await runCli(['kv', 'put', 'put/b', 'three', '--prev-kv', ...E])
      expect(human.stdout).to.contain('previous: two')
    })

    it('reads the value from piped stdin when it is omitted or "-"', async () => {
      const r1 = await runCli(['kv', 'put', 'put/stdin1', ...E], {input: 'from pipe'})
      expect(r1.code, r1.stderr).to.equal(0)
      const r2 = await runCli(['kv', 'put', 'put/stdin2', '-', ...E], {input: 'dash\nline2'})
      expect(r2.code, r2.stderr).to.equal(0)
      const c = tc.client()
      expect(new TextDecoder().decode((await c.get('put/stdin1'))!.value)).to.equal('from pipe')
      expect(new TextDecoder().decode((await c.get('put/stdin2'))!.value)).to.equal('dash\nline2')
    })

    it('stores piped stdin byte for byte (no trimming, line endings kept) whether the value is omitted or "-"', async () => {
      const raw = '  leading spaces\r\nsecond line\n\n'
      const omitted = await runCli(['kv', 'put', 'put/raw1', ...E], {input: raw})
      expect(omitted.code, omitted.stderr).to.equal(0)
      const dash = await runCli(['kv', 'put', 'put/raw2', '-', ...E], {input: raw})
      expect(dash.code, dash.stderr).to.equal(0)
      const c = tc.client()
      expect(new TextDecoder().decode((await c.get('put/raw1'))!.value)).to.equal(raw)
      expect(new TextDecoder().decode((await c.get('put/raw2'))!.value)).to.equal(raw)
    })

    it('does not take /dev/null on stdin for an omitted value (cron, `< /dev/null`), but "-" reads it as empty', async () => {
      const devNull = (args: string[]): Promise<{code: number | null, stdout: string, stderr: string}> => new Promise((resolve, reject) => {
        const fd = openSync('/dev/null', 'r')
        const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'run.js'), ...args], {stdio: [fd, 'pipe', 'pipe'], timeout: 30_000})
        closeSync(fd)
        let stdout = ''
        let stderr = ''
        child.stdout!.on('data', (d: Buffer) => { stdout += d.toString() })
        child.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
        child.on('error', reject)
        child.on('close', (code) => resolve({code, stdout, stderr}))
      })
      const omitted = await devNull(['kv', 'put', 'put/devnull', ...E])
      expect(omitted.code).to.equal(1)
      expect(omitted.stderr.trim()).to.equal('Error: no value given; pass it as an argument, with --file, or pipe it to standard input')
      expect(await tc.client().get('put/devnull')).to.equal(undefined)
      const dash = await devNull(['kv', 'put', 'put/devnull', '-', ...E])
      expect(dash.code, dash.stderr).to.equal(0)
      expect((await tc.client().get('put/devnull'))!.value).to.have.length(0)
    })

    it('never takes a missing KEY from piped stdin', async () => {
      const r = await runCli(['kv', 'put', ...E], {input: 'put/from-stdin\n'})
      expect(r.code).to.equal(2)
      expect(r.stderr.trim().split('\n')).to.have.length(1)
      expect(r.stderr).to.match(/^Error: Missing 1 required arg: key/)
      expect(await tc.client().get('put/from-stdin')).to.equal(undefined)
      const get = await runCli(['kv', 'get', ...E], {input: 'put/raw1\n'})
      expect(get.code).to.equal(2)
      expect(get.stderr).to.match(/^Error: Missing 1 required arg: key/)
    })

    it('reads the value from --file, and names a missing file', async () => {
      const f = join(tc.root, 'value.txt')
      writeFileSync(f, 'file content')
      const r = await runCli(['kv', 'put', 'put/file', '--file', f, ...E])
      expect(r.code, r.stderr).to.equal(0)
      expect(new TextDecoder().decode((await tc.client().get('put/file'))!.value)).to.equal('file content')
      const missing = await runCli(['kv', 'put', 'put/file', '--file', join(tc.root, 'nope.txt'), ...E])
      expect(missing.code).to.equal(1)
      expect(missing.stderr.trim()).to.equal(`Error: --file ${join(tc.root, 'nope.txt')} does not exist`)
      const both = await runCli(['kv', 'put', 'put/file', 'v', '--file', f, ...E])
      expect(both.code).to.equal(1)
      expect(both.stderr).to.contain('either as an argument or with --file, not both')
    })

    it('never waits on a terminal for the value', async function () {
      if (!hasScript()) this.skip() // needs util-linux `script` for a pseudo-terminal
      const omitted = await runCliTty(['kv', 'put', 'put/tty', ...E], [])
      expect(omitted.code, omitted.stdout).to.equal(1)
      expect(omitted.stdout).to.contain('Error: no value given; pass it as an argument, with --file, or pipe it to standard input')
      const dash = await runCliTty(['kv', 'put', 'put/tty', '-', ...E], [])
      expect(dash.code, dash.stdout).to.equal(1)
      expect(dash.stdout).to.contain('Error: the value "-" means standard input, but stdin is a terminal')
      expect(await tc.client().get('put/tty')).to.equal(undefined)
    })

    it('fails with one line when the key is missing or empty', async () => {
      const none = await runCli(['kv', 'put', ...E])
      expect(none.code).to.not.equal(0)
      expect(none.stderr).to.match(/Missing 1 required arg/)
      const empty = await runCli(['kv', 'put', '', 'v', ...E])
      expect(empty.code).to.equal(1)
      expect(empty.stderr.trim()).to.equal('Error: the key is empty; give a non-empty key')
    })
  })

  describe('get', () => {
    before(async () => {
      const c = tc.client()
      for (const k of ['get/a', 'get/b', 'get/c', 'getx']) await c.put(k, `v-${k}`)
    })

    it('returns every field with --json', async () => {
      const kv = (await tc.client().get('get/b'))!
      const {result, json} = await runCliJson<{revision: number, count: number, more: boolean, kvs: Array<Record<string, unknown>>}>(['kv', 'get', 'get/b', ...E])
      expect(result.code).to.equal(0)
      expect(json.count).to.equal(1)
      expect(json.more).to.equal(false)
      expect(json.revision).to.be.at.least(kv.modRevision)
      expect(json.kvs).to.deep.equal([{key: 'get/b', value: 'v-get/b', createRevision: kv.createRevision, modRevision: kv.modRevision, version: 1}])
    })

    it('reads a prefix, honours --limit and says when there are more', async () => {
      const {json} = await runCliJson<{count: number, more: boolean, kvs: Array<{key: string}>}>(['kv', 'get', 'get/', '--prefix', '--limit', '2', ...E])
      expect(json.count).to.equal(3)
      expect(json.more).to.equal(true)
      expect(json.kvs.map((k) => k.key)).to.deep.equal(['get/a', 'get/b'])
      const human = await runCli(['kv', 'get', 'get/', '--prefix', '--limit', '2', '-w', 'table', ...E])
      expect(human.stdout).to.contain('showing 2 of 3 keys; raise --limit to see more')
      expect(human.stdout).to.not.contain('getx')
    })

    it('prints only keys with --keys-only and only the count with --count-only', async () => {
      const keys = await runCli(['kv', 'get', 'get/', '--prefix', '--keys-only', ...E])
      expect(keys.stdout).to.contain('get/c')
      expect(keys.stdout).to.not.contain('v-get')
      const {json} = await runCliJson<{kvs: Array<{value: string}>}>(['kv', 'get', 'get/', '--prefix', '--keys-only', ...E])
      expect(json.kvs.map((k) => k.value)).to.deep.equal(['', '', ''])
      const count = await runCli(['kv', 'get', 'get/', '--prefix', '--count-only', '-w', 'table', ...E])
      expect(count.stdout.trim()).to.match(/^3 keys match \(keys with prefix "get\/", revision \d+\)$/)
    })

    it('serves --serializable reads from a follower, --rev at the current revision, and refuses a future revision', async () => {
      const leader = await tc.waitLeader()
      const follower = [1, 2, 3].find((id) => id !== leader)!
      const {result, json} = await runCliJson<{revision: number, kvs: Array<{value: string}>}>(
        ['kv', 'get', 'get/c', '--serializable', '--endpoints', tc.node(follower).client])
      expect(result.code, result.stderr).to.equal(0)
      expect(json.kvs[0].value).to.equal('v-get/c')
      const at = await runCliJson<{kvs: unknown[]}>(['kv', 'get', 'get/c', '--rev', String(json.revision), ...E])
      expect(at.result.code).to.equal(0)
      expect(at.json.kvs).to.have.length(1)
      const future = await runCli(['kv', 'get', 'get/c', '--rev', String(json.revision + 1000), ...E])
      expect(future.code).to.equal(1)
      expect(future.stderr.trim().split('\n')).to.have.length(1)
      expect(future.stderr).to.match(/^Error: .*revision/)
    })

    it('prints nothing (one sentence with -w table) and exits 0 for a missing key', async () => {
      const r = await runCli(['kv', 'get', 'get/none', ...E])
      expect(r.code).to.equal(0)
      expect(r.stdout).to.equal('')
      const t = await runCli(['kv', 'get', 'get/none', '-w', 'table', ...E])
      expect(t.code).to.equal(0)
      expect(t.stdout.trim()).to.match(/^no key "get\/none" found \(revision \d+\)$/)
    })

    it('refuses bad flag values with one line', async () => {
      const neg = await runCli(['kv', 'get', 'get/a', '--limit', '-1', ...E])
      expect(neg.code).to.equal(1)
      expect(neg.stderr.trim()).to.equal('Error: --limit -1 must be an integer >= 0')
      const bad = await runCli(['kv', 'get', 'get/a', '--limit', 'many', ...E])
      expect(bad.code).to.not.equal(0)
      expect(bad.stderr.trim().split('\n')).to.have.length(1)
      expect(bad.stderr).to.match(/^Error: .*--limit/)
      const unknown = await runCli(['kv', 'get', 'get/a', '--bogus', ...E])
      expect(unknown.code).to.not.equal(0)
      expect(unknown.stderr).to.contain('Nonexistent flag: --bogus')
    })
  })

  describe('history (--rev) and compact', () => {
    it('reads a key as it was at a past revision, and compact makes the older revisions unreadable', async () => {
      const put = async (v: string): Promise<number> => {
        const r = await runCliJson<{revision: number}>(['kv', 'put', 'hist/k', v, ...E])
        expect(r.result.code, r.result.stderr).to.equal(0)
        return r.json.revision
      }
      const r1 = await put('one')
      const r2 = await put('two')
      const old = await runCli(['kv', 'get', 'hist/k', '--rev', String(r1), '--print-value-only', ...E])
      expect(old.code, old.stderr).to.equal(0)
      expect(old.stdout).to.equal('one')
      const compacted = await runCli(['compact', String(r2), ...E])
      expect(compacted.code, compacted.stderr).to.equal(0)
      expect(compacted.stdout.trim()).to.equal(`compacted revision ${r2}`)
      const gone = await runCli(['kv', 'get', 'hist/k', '--rev', String(r1), ...E])
      expect(gone.code).to.equal(1)
      expect(gone.stderr.trim().split('\n')).to.have.length(1)
      expect(gone.stderr).to.match(/^Error: .*compacted/)
      const kept = await runCli(['kv', 'get', 'hist/k', '--rev', String(r2), '--print-value-only', ...E])
      expect(kept.stdout).to.equal('two')
      const again = await runCli(['compact', String(r1), ...E])
      expect(again.code).to.equal(1)
      expect(again.stderr.trim().split('\n')).to.have.length(1)
      expect(again.stderr).to.match(/^Error: .*compacted/)
      const r3 = await put('three')
      const physical = await runCliJson<{compacted: number, physical: boolean}>(['compact', String(r3), '--physical', ...E])
      expect(physical.result.code, physical.result.stderr).to.equal(0)
      expect(physical.json).to.deep.include({compacted: r3, physical: true})
    })

    it('refuses a revision that is not a positive integer before calling the cluster', async () => {
      for (const bad of ['abc', '0', '-3', '1.5']) {
        const r = await runCli(['compact', bad, '--endpoints', '127.0.0.1:1'])
        expect(r.code, bad).to.equal(1)
        expect(r.stderr.trim(), bad).to.equal(`Error: revision "${bad}" is not a positive integer`)
      }
    })
  })

  describe('del', () => {
    it('prints how many keys were deleted, for one key and for a prefix', async () => {
      const c = tc.client()
      for (const k of ['del/a', 'del/b', 'del/c']) await c.put(k, 'x')
      const one = await runCli(['kv', 'del', 'del/a', ...E])
      expect(one.code, one.stderr).to.equal(0)
      expect(one.stdout).to.match(/^deleted 1 key \(revision \d+\)\n$/)
      const {result, json} = await runCliJson<{deleted: number, revision: number}>(['kv', 'del', 'del/', '--prefix', ...E])
      expect(result.code).to.equal(0)
      expect(json.deleted).to.equal(2)
      expect(json.revision).to.be.a('number')
      expect((await c.range('del/', {prefix: true})).count).to.equal(0)
      const none = await runCli(['kv', 'del', 'del/a', ...E])
      expect(none.stdout).to.match(/^deleted 0 keys/)
    })
  })

  describe('txn', () => {
    it('runs the success operations when every compare holds', async () => {
      await tc.client().put('txn/mode', 'blue')
      const r = await runCli(['kv', 'txn', '--compare', 'value(txn/mode) = blue', '--compare', 'version(txn/mode) > 0',
        '--success', 'put txn/mode green', '--success', 'get txn/mode', '--failure', 'get txn/mode', ...E])
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stdout, 'simple, as etcdctl').to.equal('SUCCESS\n\nOK\n\ntxn/mode\ngreen\n')
      const t = await runCli(['kv', 'txn', '--compare', 'value(txn/mode) = green', '--success', 'get txn/mode', '-w', 'table', ...E])
      expect(t.stdout).to.match(/^SUCCEEDED/)
      expect(t.stdout).to.match(/txn\/mode\s*│\s*green/)
      const j = await runCli(['kv', 'txn', '--compare', 'value(txn/mode) = green', '--success', 'put txn/mode green', '-w', 'json', ...E])
      const json = JSON.parse(j.stdout) as {succeeded: boolean, responses: unknown[]}
      expect(json.succeeded).to.equal(true)
      expect(json.responses).to.have.length(1)
      expect(json.responses[0]).to.have.nested.property('Response.ResponsePut.header.revision')
    })

    it('runs the failure operations otherwise and reports them with --json', async () => {
      const {result, json} = await runCliJson<{succeeded: boolean, revision: number, responses: Array<Record<string, unknown>>}>(['kv', 'txn',
        '--compare', 'value(txn/mode) = blue', '--success', 'put txn/mode red',
        '--failure', 'get txn/mode', '--failure', 'put "txn/other key" "a value"', '--failure', 'del txn/none', ...E])
      expect(result.code, result.stderr).to.equal(0)
      expect(json.succeeded).to.equal(false)
      expect(json.responses).to.have.length(3)
      expect(json.responses[0]).to.deep.include({op: 'get', count: 1, more: false})
      expect((json.responses[0].kvs as Array<{value: string}>)[0].value).to.equal('green')
      expect(json.responses[1]).to.deep.equal({op: 'put', revision: json.revision})
      expect(json.responses[2]).to.deep.equal({op: 'del', deleted: 0})
      expect(new TextDecoder().decode((await tc.client().get('txn/other key'))!.value)).to.equal('a value')
    })

    it('takes exists() compares and --prefix operations', async () => {
      const {json} = await runCliJson<{succeeded: boolean}>(['kv', 'txn', '--compare', 'exists(txn/lock) = false',
        '--success', 'put txn/lock me', ...E])
      expect(json.succeeded).to.equal(true)
      const again = await runCliJson<{succeeded: boolean}>(['kv', 'txn', '--compare', 'exists(txn/lock) = false',
        '--success', 'put txn/lock you', '--failure', 'del txn/ --prefix', ...E])
      expect(again.json.succeeded).to.equal(false)
      expect((await tc.client().range('txn/', {prefix: true})).count).to.equal(0)
    })

    it('asks for compares and operations on a terminal, asking again after a malformed line', async function () {
      if (!hasScript()) this.skip() // needs util-linux `script` for a pseudo-terminal
      await tc.client().put('txn/tty', '1')
      const r = await runCliTty(['kv', 'txn', ...E], [
        {when: /compare 1/, send: 'bogus\r'},
        {when: /is not TARGET\(KEY\) OP VALUE/, send: 'value(txn/tty) = 1\r'},
        {when: /compare 2/, send: '\r'},
        {when: /success operation 1/, send: 'put txn/tty 2\r'},
        {when: /success operation 2/, send: '\r'},
        {when: /failure operation 1/, send: 'get txn/tty\r'},
        {when: /failure operation 2/, send: '\r'},
      ])
      expect(r.code, r.stdout).to.equal(0)
      expect(r.stdout).to.contain('SUCCEEDED: the compares held')
      expect(new TextDecoder().decode((await tc.client().get('txn/tty'))!.value)).to.equal('2')
    })

    it('Ctrl-C at the prompt cancels the transaction in one line and sends nothing', async function () {
      if (!hasScript()) this.skip() // needs util-linux `script` for a pseudo-terminal
      await tc.client().put('txn/ctrlc', 'before')
      const r = await runCliTty(['kv', 'txn', ...E], [
        {when: /compare 1/, send: 'value(txn/ctrlc) = before\r'},
        {when: /compare 2/, send: '\r'},
        {when: /success operation 1/, send: 'put txn/ctrlc after\r'},
        {when: /success operation 2/, send: '\x03'},
      ])
      expect(r.code, r.stdout).to.equal(1)
      expect(r.stdout).to.contain('Error: kv txn cancelled at the prompt; nothing was sent')
      expect(new TextDecoder().decode((await tc.client().get('txn/ctrlc'))!.value)).to.equal('before')
    })

    it('fails clearly without flags and without a terminal, and on malformed compares or operations', async () => {
      const none = await runCli(['kv', 'txn', ...E])
      expect(none.code).to.equal(1)
      expect(none.stderr.trim()).to.equal('Error: kv txn needs --compare, --success or --failure when no terminal is attached (see raftctl help kv txn)')
      const target = await runCli(['kv', 'txn', '--compare', 'size(k) = 1', '--success', 'put k v', ...E])
      expect(target.code).to.equal(1)
      expect(target.stderr.trim()).to.equal('Error: compare "size(k) = 1": unknown target "size"; use value, version, create, mod or exists')
      const num = await runCli(['kv', 'txn', '--compare', 'version(k) > two', '--success', 'put k v', ...E])
      expect(num.stderr.trim()).to.equal('Error: compare "version(k) > two": "two" is not a non-negative integer')
      const op = await runCli(['kv', 'txn', '--success', 'set k v', ...E])
      expect(op.code).to.equal(1)
      expect(op.stderr.trim()).to.equal('Error: operation "set k v": unknown verb "set"; use put, get or del')
      const noOps = await runCli(['kv', 'txn', '--compare', 'version(k) = 0', ...E])
      expect(noOps.stderr.trim()).to.equal('Error: the transaction has no operations; give --success or --failure')
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

    it('prints one line per event from --rev with -w table and exits 0 on SIGINT', async () => {
      const c = tc.client()
      const first = await c.put('watch/a', '1')
      const rev = first.header!.revision
      await c.put('watch/b', '2')
      await c.deleteRange('watch/a')
      await c.put('other', 'x')
      const w = watch(['watch/', '--prefix', '--rev', String(rev), '-w', 'table'])
      await w.waitOutput(`DELETE watch/a (revision ${rev + 2})`)
      const r = await w.stop('SIGINT')
      expect(r.code).to.equal(0)
      expect(r.stdout.split('\n').filter((l) => l !== '')).to.deep.equal([
        `PUT watch/a = 1 (revision ${rev})`, `PUT watch/b = 2 (revision ${rev + 1})`, `DELETE watch/a (revision ${rev + 2})`,
      ])
      expect(r.stderr).to.contain('watching keys with prefix "watch/" from revision')
      expect(r.stderr).to.not.contain('Error')
    })

    it('prints JSON lines with --json, follows new writes and exits 0 on SIGTERM', async () => {
      const c = tc.client()
      const rev = (await c.put('watchj/k', 'v1')).header!.revision
      const w = watch(['watchj/k', '--rev', String(rev), '--json'])
      await w.waitOutput('"v1"')
      await c.put('watchj/k', 'v2')
      await c.put('watchj/k2', 'not watched')
      await c.deleteRange('watchj/k')
      await w.waitOutput('"DELETE"')
      const r = await w.stop('SIGTERM')
      expect(r.code).to.equal(0)
      const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
      expect(events).to.deep.equal([
        {type: 'PUT', key: 'watchj/k', value: 'v1', createRevision: rev, modRevision: rev, version: 1, revision: rev},
        {type: 'PUT', key: 'watchj/k', value: 'v2', createRevision: rev, modRevision: rev + 1, version: 2, revision: rev + 1},
        {type: 'DELETE', key: 'watchj/k', value: '', createRevision: 0, modRevision: rev + 3, version: 0, revision: rev + 3},
      ])
    })

    it('with --prev-kv shows each key\'s previous value: before the new one in simple (as etcdctl), in the line of table, as prevKv with --json', async () => {
      const c = tc.client()
      const rev = (await c.put('watchp/k', 'old')).header!.revision
      await c.put('watchp/k', 'new')
      await c.deleteRange('watchp/k')
      const simple = watch(['watchp/k', '--rev', String(rev), '--prev-kv', '-w', 'simple'])
      const table = watch(['watchp/k', '--rev', String(rev), '--prev-kv', '-w', 'table'])
      const json = watch(['watchp/k', '--rev', String(rev + 1), '--prev-kv', '--json'])
      await simple.waitOutput('DELETE')
      await table.waitOutput('DELETE')
      await json.waitOutput('"DELETE"')
      expect((await simple.stop('SIGINT')).stdout).to.equal('PUT\nwatchp/k\nold\nPUT\nwatchp/k\nold\nwatchp/k\nnew\nDELETE\nwatchp/k\nnew\nwatchp/k\n\n')
      expect((await table.stop('SIGINT')).stdout.split('\n').filter((l) => l !== '')).to.deep.equal([
        `PUT watchp/k = old (revision ${rev})`, `PUT watchp/k = new, was old (revision ${rev + 1})`, `DELETE watchp/k, was new (revision ${rev + 2})`,
      ])
      const events = (await json.stop('SIGINT')).stdout.trim().split('\n').map((l) => JSON.parse(l) as {type: string, prevKv?: {value: string, modRevision: number}})
      expect(events.map((e) => [e.type, e.prevKv?.value, e.prevKv?.modRevision])).to.deep.equal([['PUT', 'old', rev], ['DELETE', 'new', rev + 1]])
    })

    it('without --rev starts at the next write', async () => {
      const c = tc.client()
      await c.put('watchn/old', 'before')
      const w = watch(['watchn/', '--prefix', '-w', 'table'])
      await w.waitOutput('Ctrl-C to stop', 'stderr')
      let i = 0
      await waitFor('the watch to deliver a new write', async () => {
        await c.put('watchn/new', String(++i))
        return w.stdout.includes('PUT watchn/new')
      }, {timeoutMs: 15_000, intervalMs: 200})
      const r = await w.stop('SIGINT')
      expect(r.code).to.equal(0)
      expect(r.stdout).to.not.contain('watchn/old')
    })

    it('fails with one line when no endpoint can serve it', async () => {
      const r = await runCli(['kv', 'watch', 'k', '--endpoints', '127.0.0.1:1', '--timeout', '1s'])
      expect(r.code).to.equal(1)
      expect(r.stderr.trim().split('\n').at(-1)).to.match(/^Error: the watch lost its member and no endpoint \(127\.0\.0\.1:1\) served it/)
    })
  })

  describe('errors of the common flags', () => {
    it('refuses a --timeout longer than Node.js timers allow before sending anything', async () => {
      const r = await runCli(['kv', 'put', 'dur/k', 'v', '--timeout', '3000000s', ...E])
      expect(r.code).to.equal(1)
      expect(errorLine(r)).to.equal('Error: --timeout "3000000s" is too long; the longest is 2147483647ms (about 24.8 days)')
      expect(await tc.client().get('dur/k'), 'the write was not sent').to.equal(undefined)
    })

    it('names an unreachable endpoint in one line', async () => {
      const r = await runCli(['kv', 'get', 'k', '--endpoints', '127.0.0.1:1', '--timeout', '2s'])
      expect(r.code).to.equal(1)
      expect(r.stderr.trim()).to.equal('Error: cannot reach 127.0.0.1:1: no raftctl server answers there')
      const j = await runCliJson<{error: {message: string}}>(['kv', 'put', 'k', 'v', '--endpoints', '127.0.0.1:1', '--timeout', '2s'])
      expect(j.result.code).to.equal(1)
      expect(j.json.error.message).to.match(/cannot reach/)
    })

    it('says when an endpoint is not a client address (a node\'s peer address), for kv and cluster status', async () => {
      const peer = tc.node(1).peer
      const line = `${peer} does not serve the raftctl client API (The server does not implement the method /etcdserverpb.KV/Range); ` +
        'is it a peer address? --endpoints takes the nodes\' client addresses (their --listen-client)'
      const r = await runCli(['kv', 'get', 'k', '--endpoints', peer])
      expect(r.code).to.equal(1)
      expect(r.stderr.trim()).to.equal(`Error: ${line}`)
      const j = await runCliJson<{error: {message: string, code: string}}>(['kv', 'get', 'k', '--endpoints', peer])
      expect(j.json).to.deep.equal({error: {message: line, code: 'UNIMPLEMENTED'}})
      const s = await runCli(['cluster', 'status', '--endpoints', peer])
      expect(s.code).to.equal(1)
      expect(s.stderr.trim()).to.equal(`Error: no member answers (asked ${peer}): ${peer} does not serve the raftctl client API ` +
        '(The server does not implement the method /raftctl.v1.Raftctl/NodeStatus); is it a peer address? ' +
        '--endpoints takes the nodes\' client addresses (their --listen-client)')
    })

    it('refuses a malformed endpoint and a bad timeout', async () => {
      const e = await runCli(['kv', 'get', 'k', '--endpoints', 'nohost'])
      expect(e.code).to.equal(1)
      expect(e.stderr.trim()).to.equal('Error: --endpoints "nohost" is not host:port (for example 127.0.0.1:2380)')
      const t = await runCli(['kv', 'get', 'k', '--timeout', 'soon', ...E])
      expect(t.code).to.equal(1)
      expect(t.stderr.trim()).to.equal('Error: --timeout "soon" is not a duration such as 500ms, 5s or 2m')
    })

    it('has help with examples (raftctl help kv txn; every kv command has a description and examples)', async () => {
      const r = await runCli(['help', 'kv', 'txn'])
      expect(r.code).to.equal(0)
      expect(r.stdout).to.contain('EXAMPLES')
      expect(r.stdout).to.contain('raftctl kv txn --compare')
      for (const name of ['put', 'get', 'del', 'txn', 'watch']) {
        const cmd = (await import(`../../src/commands/kv/${name}.js`)).default as {summary?: string, description?: string, examples?: string[]}
        expect(cmd.summary, name).to.be.a('string').that.is.not.empty
        expect(cmd.description, name).to.be.a('string').that.is.not.empty
        expect(cmd.examples, name).to.be.an('array').that.is.not.empty
        for (const e of cmd.examples!) expect(e, name).to.contain(`<%= config.bin %> kv ${name}`)
      }
    })
  })
})
