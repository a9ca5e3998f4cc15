import {expect} from 'chai'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {spawn, execFileSync} from 'node:child_process'
import {REPO_ROOT, waitFor} from '../integration/harness.js'
import {runProcess} from '../harness/process.js'

/** Runs `npm run chaos -- ...args` as the script does (tsx test/chaos/main.ts). */
const chaos = (args: readonly string[]) =>
  runProcess(process.execPath, ['--import', 'tsx', join('test', 'chaos', 'main.ts'), ...args], {cwd: REPO_ROOT, timeoutMs: 60_000})

/** Whether `pid` is a live process (a zombie left for init to reap has stopped running). */
function alive(pid: number): boolean {
  try {
    return !execFileSync('ps', ['-o', 'stat=', '-p', String(pid)]).toString().trim().startsWith('Z')
  } catch {
    return false // ps exits 1 when no such process exists
  }
}

const op = (o: Record<string, unknown>) => ({clientId: 0, value: null, expected: null, output: null, ...o})

describe('chaos/main (npm run chaos)', function () {
  this.timeout(120_000)
  const dir = mkdtempSync(join(tmpdir(), 'raftctl-chaos-main-'))
  after(() => rmSync(dir, {recursive: true, force: true}))

  it('refuses bad flags with one line naming the flag, exit 2, before starting anything', async () => {
    const r1 = await chaos(['--duration', '10x'])
    expect(r1.code).to.equal(2)
    expect(r1.stderr.split('\n')[0]).to.equal('Error: --duration must be a duration such as 30s, 10m or 500ms (got "10x")')
    const r2 = await chaos(['--nemesis', 'kill,flood'])
    expect(r2.stderr.split('\n')[0]).to.equal('Error: --nemesis: unknown nemesis "flood" (known: kill, partition, slow, pause, members, or none)')
    const r3 = await chaos(['--nodes', '0'])
    expect(r3.stderr.split('\n')[0]).to.equal('Error: --nodes must be an integer from 1 to 7 (got "0")')
    const r4 = await chaos(['--lock-ttl', '500ms'])
    expect(r4.code).to.equal(2)
    expect(r4.stderr.split('\n')[0]).to.equal('Error: --lock-ttl must be whole seconds from 1s to 3600s (got "500ms")')
    // A plain number is seconds: 86401 is a second over the 24 h bound (as milliseconds it would start a run).
    const r5 = await chaos(['--duration', '86401'])
    expect(r5.code).to.equal(2)
    expect(r5.stderr.split('\n')[0]).to.equal('Error: --duration must be between 1ms and 24h (got "86401")')
  })

  it('check-locks: prints both records of an overlap and UNSAFE, exit 1; SAFE and exit 0 without it', async () => {
    const ns = (t: number): number => t * 1_000_000
    const lease = (l: string) => ({clientId: 0, lease: l, grantSentAt: 0, ttl: 2, keepAlives: [], lostAt: null, lostReason: null})
    const held = (clientId: number, l: string, revision: number, from: number, to: number) =>
      ({clientId, lock: 'L', lease: l, key: `L/${l}`, revision, acquiredAt: ns(from), releasedAt: ns(to), leaseLostAt: null})
    const f = join(dir, 'locks.json')
    writeFileSync(f, JSON.stringify({leases: [lease('a'), lease('b')], acquisitions: [held(0, 'a', 5, 10, 30), held(1, 'b', 7, 20, 40)]}))
    const bad = await chaos(['check-locks', f])
    expect(bad.code).to.equal(1)
    expect(bad.stdout.trim().split('\n')).to.deep.equal([
      'two holders of L at once:',
      '  client 0: L/a revision 5, held [10.000 ms, 30.000 ms] (ended: released)',
      '  client 1: L/b revision 7, held [20.000 ms, 40.000 ms] (ended: released)',
      'locks: 2 acquisitions (2 held before their lease\'s bound) over 1 lock, UNSAFE',
    ])
    writeFileSync(f, JSON.stringify({leases: [lease('a'), lease('b')], acquisitions: [held(0, 'a', 5, 10, 30), held(1, 'b', 7, 30, 40)]}))
    const good = await chaos(['check-locks', f])
    expect(good.code).to.equal(0)
    expect(good.stdout.trim()).to.equal('locks: 2 acquisitions (2 held before their lease\'s bound) over 1 lock, SAFE')
  })

  it('check: prints LINEARIZABLE and exits 0 for a good history', async () => {
    const f = join(dir, 'good.json')
    writeFileSync(f, JSON.stringify([op({op: 'put', key: 'a', value: '1', call: 0, return: 10}), op({op: 'get', key: 'a', output: '1', call: 20, return: 30})]))
    const r = await chaos(['check', f])
    expect(r.code).to.equal(0)
    expect(r.stdout.trim().split('\n').at(-1)).to.equal('LINEARIZABLE (2 ops over 1 key)')
  })

  it('check: prints NOT LINEARIZABLE with the ops that show it and exits 1 for a stale read', async () => {
    const f = join(dir, 'stale.json')
    writeFileSync(f, JSON.stringify([
      op({op: 'put', key: 'a', value: '1', call: 0, return: 10}), op({op: 'put', key: 'a', value: '2', call: 20, return: 30}),
      op({op: 'get', key: 'a', output: '1', call: 40, return: 50}),
    ]))
    const r = await chaos(['check', f])
    expect(r.code).to.equal(1)
    expect(r.stdout).to.include('key a: not linearizable')
    expect(r.stdout).to.include('get a -> "1"')
    expect(r.stdout.trim().split('\n').at(-1)).to.equal('NOT LINEARIZABLE (3 ops over 1 key)')
  })

  it('check: names the bad record of a malformed history file', async () => {
    const f = join(dir, 'bad.json')
    writeFileSync(f, JSON.stringify([op({op: 'get', key: 'a', call: 5, return: 1})]))
    const r = await chaos(['check', f])
    expect(r.code).to.equal(1)
    expect(r.stderr.trim()).to.equal(`Error: ${f}: operation 0: return must be null (unknown outcome) or an integer not before call`)
  })

  it('stops every process it started (by pid) when interrupted with SIGINT', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('test', 'chaos', 'main.ts'), '--duration', '120s', '--seed', '3',
      '--out', join(dir, 'interrupted')], {cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { out += d.toString() })
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
    try {
      const nodes = await waitFor('the run\'s three node processes', () => {
        const lines = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(child.pid)]).toString().split('\n')
        const pids = lines.filter((l) => l.includes(' server start ')).map((l) => Number(l.trim().split(' ')[0]))
        return pids.length >= 3 ? pids : undefined
      }, {timeoutMs: 60_000, intervalMs: 250})
      await new Promise((r) => setTimeout(r, 3000))
      child.kill('SIGINT')
      const code = await Promise.race([exited, new Promise<'late'>((r) => setTimeout(() => r('late'), 60_000))])
      expect(code, out).to.equal(1)
      expect(out).to.include('Error: the chaos run was interrupted')
      for (const pid of nodes) expect(alive(pid), `node process ${pid} still running`).to.equal(false)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })
})
