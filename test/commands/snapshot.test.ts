/**
 * `raftctl snapshot save|inspect|restore` run as child processes (no terminal): a backup of a
 * real 3-node cluster, its offline inspection, damaged and missing files, refused restores, and
 * backup -> restore -> start a new 3-node cluster from the restored dirs -> the keys are there.
 */
import {expect} from 'chai'
import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {NodeProc, TestCluster, TICK_ARGS} from '../integration/harness.js'
import {hasScript, runCli, runCliJson, runCliTty, splitShellLine, startThreeNodes, stopNodes} from './cli_harness.js'

interface Inspect {
  path: string, size: number, formatVersion: number, clusterId: number, index: number, term: number,
  voters: number[], learners: number[], learnersNext: number[], votersOutgoing: number[], autoLeave: boolean,
  members: Array<{id: number, name: string, peerUrls: string[], clientUrls: string[]}>,
  keyCount: number, revision: number, compactRevision: number, records: number, checksum: string, checksumOk: boolean, keys?: string[]
}

describe('raftctl snapshot (save, inspect, restore)', function () {
  this.timeout(60_000)
  let tc: TestCluster
  let E: string[]
  let dir: string
  let backup: string
  let saved: Record<string, unknown>
  let revision: number

  before(async function () {
    this.timeout(240_000)
    const three = await startThreeNodes()
    tc = three.tc
    E = three.E
    const c = tc.client()
    for (let i = 0; i < 20; i++) revision = (await c.put(`cfg/k${String(i).padStart(2, '0')}`, `value ${i}`)).header!.revision
    dir = join(tc.root, 'backups')
    mkdirSync(dir)
    backup = join(dir, 'b.snap')
  })

  after(() => stopNodes(tc))

  describe('save', () => {
    it('downloads a verified snapshot with progress and reports it with --json', async () => {
      const leader = await tc.waitLeader()
      const {result, json} = await runCliJson(['snapshot', 'save', backup, '--endpoints', tc.node(leader).client])
      expect(result.code, result.stderr).to.equal(0)
      saved = json
      expect(json).to.deep.include({path: backup, endpoint: tc.node(leader).client, keyCount: 20, revision})
      expect(json.index).to.be.a('number').greaterThan(20)
      expect(json.term).to.be.a('number').greaterThan(0)
      expect(json.size).to.equal(readFileSync(backup).length)
      expect(json.checksum).to.match(/^[0-9a-f]{64}$/)
      expect(readdirSync(dir)).to.deep.equal(['b.snap'])
    })

    it('prints one line with what was saved and shows progress on stderr', async () => {
      const f = join(dir, 'human.snap')
      const r = await runCli(['snapshot', 'save', f, ...E])
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stdout).to.match(new RegExp(`^saved snapshot to ${f} from 127\\.0\\.0\\.1:\\d+: index \\d+, term \\d+, 20 keys at revision ${revision}, .* checksum verified \\(sha256 [0-9a-f]{64}\\)\\n$`))
      expect(r.stderr).to.match(/snapshot from 127\.0\.0\.1:\d+: 100% \(\d+\/\d+ bytes\)/)
    })

    it('shows a progress bar on a terminal and leaves only the verified file', async function () {
      if (!hasScript()) this.skip() // needs util-linux `script` for a pseudo-terminal
      const f = join(dir, 'tty.snap')
      const r = await runCliTty(['snapshot', 'save', f, ...E], [])
      expect(r.code, r.stdout).to.equal(0)
      const size = readFileSync(f).length
      expect(r.stdout).to.match(new RegExp(`snapshot from 127\\.0\\.0\\.1:\\d+ \\[[^\\]]+\\] 100% \\| ${size}/${size} bytes`))
      expect(r.stdout).to.contain(`saved snapshot to ${f} from 127.0.0.1:`)
      expect(readdirSync(dir).filter((n) => n.includes('tty.snap'))).to.deep.equal(['tty.snap'])
    })

    it('refuses to overwrite an existing file unless --force', async () => {
      const before = readFileSync(backup)
      const r = await runCli(['snapshot', 'save', backup, ...E])
      expect(r.code).to.equal(1)
      expect(r.stderr.trim()).to.equal(`Error: ${backup} already exists; pass --force to overwrite it`)
      expect(readFileSync(backup).equals(before)).to.equal(true)
      const forced = await runCli(['snapshot', 'save', backup, '--force', ...E])
      expect(forced.code, forced.stderr).to.equal(0)
    })

    it('fails with one line and leaves no file when the endpoint is unreachable', async () => {
      const f = join(dir, 'unreachable.snap')
      const r = await runCli(['snapshot', 'save', f, '--endpoints', '127.0.0.1:1', '--timeout', '2s'])
      expect(r.code).to.equal(1)
      expect(r.stderr.trim()).to.equal('Error: cannot reach 127.0.0.1:1: no raftctl server answers there')
      expect(readdirSync(dir).filter((n) => n.includes('unreachable'))).to.deep.equal([])
    })

    it('names a missing directory', async () => {
      const f = join(dir, 'no', 'such', 'x.snap')
      const r = await runCli(['snapshot', 'save', f, ...E])
      expect(r.code).to.equal(1)
      expect(r.stderr.trim()).to.equal(`Error: the directory of ${f} (${join(dir, 'no', 'such')}) does not exist`)
    })
  })

  describe('inspect', () => {
    it('describes the file field by field with --json and lists keys with --keys', async () => {
      const {result, json} = await runCliJson<Inspect>(['snapshot', 'inspect', backup, '--keys', '3'])
      expect(result.code, result.stderr).to.equal(0)
      expect(json).to.deep.include({path: backup, formatVersion: 3, keyCount: 20, revision, compactRevision: 0, records: 20, leaseCount: 0, checksumOk: true, autoLeave: false})
      expect(json.size).to.equal(readFileSync(backup).length)
      expect(json.voters).to.deep.equal([1, 2, 3])
      expect(json.learners).to.deep.equal([])
      expect(json.learnersNext).to.deep.equal([])
      expect(json.votersOutgoing).to.deep.equal([])
      expect(json.members.map((m) => [m.id, m.name, m.peerUrls, m.clientUrls])).to.deep.equal([1, 2, 3].map((id) =>
        [id, `node${id}`, [tc.node(id).peer], [tc.node(id).client]]))
      expect(json.keys).to.deep.equal(['cfg/k00', 'cfg/k01', 'cfg/k02'])
      expect(json.clusterId).to.be.a('number').greaterThan(0)
      expect(json.index).to.be.a('number').greaterThan(20)
      expect(json.checksum).to.match(/^[0-9a-f]{64}$/)
      const noKeys = await runCliJson<Inspect>(['snapshot', 'inspect', backup])
      expect(noKeys.json).to.not.have.property('keys')
    })

    it('prints the facts as tables with -w table (the default on a terminal)', async () => {
      const r = await runCli(['snapshot', 'inspect', backup, '--keys', '2', '-w', 'table'])
      expect(r.code, r.stderr).to.equal(0)
      for (const re of [/voters\s*│\s*\(1 2 3\)/, /learners\s*│\s*\(\)/, /learners_next\s*│\s*\(\)/, /voters_outgoing\s*│\s*\(\)/,
        /auto_leave\s*│\s*false/, /key count\s*│\s*20/, new RegExp(`revision\\s*│\\s*${revision}`), /checksum\s*│\s*ok \(sha256 [0-9a-f]{64}\)/,
        new RegExp(`history\\s*│\\s*revisions 0\\.\\.${revision} \\(20 records\\)`),
        /MEMBER ID/, /node2/, /KEYS OF THE FIRST 2 OF 20 RECORDS/, /│ cfg\/k00\s*│[^│]*│ cfg\/k01\s*│/]) {
        expect(r.stdout).to.match(re)
      }
    })

    it('prints one status line as etcdctl (sha256, revision, keys, size) and the keys when stdout is not a terminal', async () => {
      const {json} = await runCliJson<Inspect>(['snapshot', 'inspect', backup])
      const r = await runCli(['snapshot', 'inspect', backup, '--keys', '2'])
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stdout).to.equal(`${json.checksum}, ${revision}, 20, ${json.size}\ncfg/k00\ncfg/k01\n`)
      const f = await runCli(['snapshot', 'inspect', backup, '-w', 'fields'])
      expect(f.stdout).to.contain(`"KeyCount" : 20\n"Revision" : ${revision}\n"CompactRevision" : 0\n"Records" : 20\n"Leases" : 0\n"Checksum" : "${json.checksum}"\n"ChecksumOK" : true\n`)
    })

    it('reports a missing, truncated, non-snapshot or altered file in one line with exit 1', async () => {
      const bytes = readFileSync(backup)
      const missing = await runCli(['snapshot', 'inspect', join(dir, 'none.snap')])
      expect(missing.code).to.equal(1)
      expect(missing.stderr.trim()).to.equal(`Error: snapshot file ${join(dir, 'none.snap')} does not exist`)
      const directory = await runCli(['snapshot', 'inspect', dir])
      expect(directory.code).to.equal(1)
      expect(directory.stderr.trim()).to.equal(`Error: ${dir} is a directory, not a snapshot file`)
      const trunc = join(dir, 'trunc.snap')
      writeFileSync(trunc, bytes.subarray(0, bytes.length - 50))
      const t = await runCli(['snapshot', 'inspect', trunc])
      expect(t.code).to.equal(1)
      expect(t.stderr.trim()).to.match(new RegExp(`^Error: snapshot file ${trunc} is truncated at byte \\d+ \\(needed \\d+ bytes of .*\\)$`))
      const junk = join(dir, 'junk.snap')
      writeFileSync(junk, 'this is not a snapshot file at all')
      const j = await runCli(['snapshot', 'inspect', junk])
      expect(j.code).to.equal(1)
      expect(j.stderr.trim()).to.match(new RegExp(`^Error: snapshot file ${junk} is not a raftctl snapshot \\(bad magic`))
      const altered = join(dir, 'altered.snap')
      const copy = Buffer.from(bytes)
      copy[copy.length - 1] ^= 0x01
      writeFileSync(altered, copy)
      const a = await runCliJson<Inspect>(['snapshot', 'inspect', altered])
      expect(a.result.code).to.equal(1)
      expect(a.json.checksumOk).to.equal(false)
      expect(a.result.stderr.trim()).to.equal(`Error: snapshot file ${altered} fails its SHA-256 checksum; it was altered or damaged and must not be restored`)
      const h = await runCli(['snapshot', 'inspect', altered, '-w', 'table'])
      expect(h.stdout).to.match(/checksum\s*│\s*MISMATCH/)
    })

    it('refuses a bad --keys value', async () => {
      const r = await runCli(['snapshot', 'inspect', backup, '--keys', '-2'])
      expect(r.code).to.equal(1)
      expect(r.stderr.trim()).to.equal('Error: --keys -2 must be an integer >= 0')
    })
  })

  describe('restore', () => {
    it('refuses without --yes when no terminal is attached, and writes nothing', async () => {
      const d = join(tc.root, 'r-noyes')
      const r = await runCli(['snapshot', 'restore', backup, '--data-dir', d, '--id', '1', '--initial-cluster', '1=127.0.0.1:9'])
      expect(r.code).to.equal(1)
      expect(r.stderr.trim()).to.equal('Error: snapshot restore needs confirmation and no terminal is attached; pass --yes to proceed')
      expect(existsSync(d)).to.equal(false)
    })

    it('asks for confirmation on a terminal: "no" cancels, "yes" restores', async function () {
      if (!hasScript()) this.skip() // needs util-linux `script` for a pseudo-terminal
      const d = join(tc.root, 'r-tty')
      const args = ['snapshot', 'restore', backup, '--data-dir', d, '--id', '1', '--initial-cluster', '1=127.0.0.1:9']
      const no = await runCliTty(args, [{when: /NEW cluster/, send: 'n\r'}])
      expect(no.code, no.stdout).to.equal(1)
      expect(no.stdout).to.contain('Error: snapshot restore cancelled')
      expect(existsSync(d)).to.equal(false)
      const yes = await runCliTty(args, [{when: /NEW cluster/, send: 'y\r'}])
      expect(yes.code, yes.stdout).to.equal(0)
      expect(yes.stdout).to.contain(`restored ${backup} into ${d}: node 1 of a new cluster`)
      expect(yes.stdout).to.contain(`start it with: raftctl server start --id 1 --data-dir ${d} --initial-cluster 1=127.0.0.1:9 --listen-peer 127.0.0.1:9\r\n`)
      expect(yes.stdout).to.contain('(it serves clients on 127.0.0.1:2379 unless you add --listen-client host:port)')
      expect(yes.stdout).to.not.contain('<')
      expect(readdirSync(join(d, 'snap'))).to.have.length(1)
    })

    it('refuses a non-empty dir, a missing file, a damaged file and bad membership flags', async () => {
      const full = join(tc.root, 'r-full')
      mkdirSync(full)
      writeFileSync(join(full, 'x'), 'x')
      const base = ['--id', '1', '--initial-cluster', '1=127.0.0.1:9', '--yes']
      const f = await runCli(['snapshot', 'restore', backup, '--data-dir', full, ...base])
      expect(f.code).to.equal(1)
      expect(f.stderr.trim()).to.equal(`Error: --data-dir ${full} is not empty (1 entries); restore only into a new or empty directory`)
      const d = join(tc.root, 'r-bad')
      const m = await runCli(['snapshot', 'restore', join(dir, 'none.snap'), '--data-dir', d, ...base])
      expect(m.stderr.trim()).to.equal(`Error: snapshot file ${join(dir, 'none.snap')} does not exist`)
      const altered = join(dir, 'altered.snap')
      const a = await runCli(['snapshot', 'restore', altered, '--data-dir', d, ...base])
      expect(a.code).to.equal(1)
      expect(a.stderr.trim()).to.match(/^Error: snapshot file .*altered\.snap: checksum mismatch/)
      const id = await runCli(['snapshot', 'restore', backup, '--data-dir', d, '--id', '4', '--initial-cluster', '1=127.0.0.1:9,2=127.0.0.1:10', '--yes'])
      expect(id.stderr.trim()).to.equal('Error: --id 4 is not in --initial-cluster (members 1, 2)')
      const ic = await runCli(['snapshot', 'restore', backup, '--data-dir', d, '--id', '1', '--initial-cluster', '1=nohost', '--yes'])
      expect(ic.stderr.trim()).to.equal('Error: --initial-cluster: member 1 "nohost" is not host:port (for example 127.0.0.1:2380)')
      const req = await runCli(['snapshot', 'restore', backup, '--id', '1', '--initial-cluster', '1=127.0.0.1:9', '--yes'])
      expect(req.code).to.not.equal(0)
      expect(req.stderr.trim()).to.equal('Error: Missing required flag data-dir')
      expect(existsSync(d)).to.equal(false)
    })

    it('backup -> restore on 3 nodes -> start a new cluster from the dirs -> the keys are there', async function () {
      this.timeout(120_000)
      const tc2 = new TestCluster()
      try {
        const specs = await Promise.all([1, 2, 3].map((id) => tc2.spec(id)))
        const initial = specs.map((sp) => `${sp.id}=127.0.0.1:${sp.peerPort}`).join(',')
        const lines: string[] = []
        for (const sp of specs) {
          const restoreArgs = ['snapshot', 'restore', backup, '--data-dir', sp.dataDir, '--id', String(sp.id), '--initial-cluster', initial,
            '--client-url', `127.0.0.1:${sp.clientPort}`, '--yes']
          const {result, json} = await runCliJson<Record<string, unknown>>(restoreArgs)
          expect(result.code, result.stderr).to.equal(0)
          expect(json).to.deep.include({dataDir: sp.dataDir, nodeId: sp.id, keyCount: 20, revision, index: saved.index, term: saved.term})
          expect(json.voters).to.deep.equal([1, 2, 3])
          expect(json.startArgs).to.deep.equal(['server', 'start', '--id', String(sp.id), '--data-dir', sp.dataDir, '--initial-cluster', initial,
            '--listen-peer', `127.0.0.1:${sp.peerPort}`, '--listen-client', `127.0.0.1:${sp.clientPort}`])
          expect(json.startCommand).to.equal(`raftctl ${(json.startArgs as string[]).join(' ')}`)
          lines.push(json.startCommand as string)
        }
        const snaps = specs.map((sp) => readdirSync(join(sp.dataDir, 'snap')).map((n) => readFileSync(join(sp.dataDir, 'snap', n))))
        expect(snaps.every((l) => l.length === 1 && l[0].equals(snaps[0][0]))).to.equal(true)
        // Each node starts from the printed line, as printed (plus the tests' fast Raft timing).
        for (const [i, sp] of specs.entries()) {
          const words = splitShellLine(lines[i])
          expect(words.slice(0, 3)).to.deep.equal(['raftctl', 'server', 'start'])
          const n = new NodeProc(sp, [...words.slice(3), ...TICK_ARGS, '--log-format', 'json'])
          tc2.nodes.set(sp.id, n)
          n.start()
        }
        await tc2.waitLeader()
        const E2 = ['--endpoints', specs.map((sp) => `127.0.0.1:${sp.clientPort}`).join(',')]
        const {result, json} = await runCliJson<{count: number, revision: number, kvs: Array<{key: string, value: string}>}>(['kv', 'get', 'cfg/', '--prefix', ...E2])
        expect(result.code, result.stderr).to.equal(0)
        expect(json.count).to.equal(20)
        expect(json.kvs[7]).to.deep.include({key: 'cfg/k07', value: 'value 7'})
        expect(json.revision).to.equal(revision)
        const put = await runCliJson<{revision: number}>(['kv', 'put', 'after-restore', 'yes', ...E2])
        expect(put.json.revision).to.equal(revision + 1)
        const status = await runCliJson<{members: Array<{id: number, reachable: boolean}>}>(['cluster', 'status', ...E2])
        expect(status.json.members.map((m) => [m.id, m.reachable])).to.deep.equal([[1, true], [2, true], [3, true]])
        const old = await tc.client().status(tc.node(1).client)
        const fresh = await tc2.client().status(`127.0.0.1:${specs[0].clientPort}`)
        expect(fresh.header!.clusterId).to.not.equal(old.header!.clusterId)
      } finally {
        tc2.close()
      }
    })

    it('has help with examples (raftctl help snapshot restore; every snapshot command has them)', async () => {
      const r = await runCli(['help', 'snapshot', 'restore'])
      expect(r.code).to.equal(0)
      expect(r.stdout).to.contain('EXAMPLES')
      expect(r.stdout).to.contain('raftctl snapshot restore backup.snap --data-dir')
      for (const name of ['save', 'inspect', 'restore']) {
        const cmd = (await import(`../../src/commands/snapshot/${name}.js`)).default as {summary?: string, description?: string, examples?: string[]}
        expect(cmd.summary, name).to.be.a('string').that.is.not.empty
        expect(cmd.description, name).to.be.a('string').that.is.not.empty
        expect(cmd.examples, name).to.be.an('array').that.is.not.empty
        for (const e of cmd.examples!) expect(e, name).to.contain(`<%= config.bin %> snapshot ${name}`)
      }
    })
  })
})
