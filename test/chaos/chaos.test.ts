import {expect} from 'chai'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stopAll} from '../integration/harness.js'
import {readHistory} from './history.js'
import {formatViolation, readLockHistory} from './lock_checker.js'
import {NEMESES, type NemesisEvent} from './nemesis.js'
import {type ChaosReport, runChaos} from './run.js'

/**
 * A short chaos run as part of the test suite: 3 nodes, every nemesis, a fixed seed, 4 KV clients
 * and 3 lock clients on 2 locks. It must find the history linearizable, every member holding the
 * same data, and no two holders of a lock at once (judged by lease validity). On failure the output
 * directory (history, nemesis timeline, node logs) is kept and named in the failure.
 */
describe('chaos: a short run with every nemesis (3 nodes, 30 s, seed 11, lock clients)', function () {
  this.timeout(420_000)
  const out = mkdtempSync(join(tmpdir(), 'raftctl-chaos-'))
  let report: ChaosReport | undefined
  let failed = false

  before(async () => {
    report = await runChaos({nodes: 3, durationMs: 30_000, clients: 4, keys: 4, nemeses: NEMESES, seed: 11, out, lockClients: 3, locks: 2})
  })
  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true
  })
  after(async () => {
    await stopAll()
    if (failed || report === undefined) console.log(`chaos output kept in ${out}`)
    else rmSync(out, {recursive: true, force: true})
  })

  it('finds the history linearizable, final reads included', () => {
    expect(report!.problems, `problems (output in ${out})`).to.deep.equal([])
    expect(report!.verdict, `verdict (output in ${out}): ${JSON.stringify(report!.minimal)}`).to.equal('linearizable')
    const ops = readHistory(join(out, 'history.json'))
    expect(ops.filter((o) => o.clientId === 4 && o.return !== null).map((o) => o.key).sort())
      .to.deep.equal(['chaos/k0', 'chaos/k1', 'chaos/k2', 'chaos/k3'])
    // Every kind of op was exercised and answered (how many depends on the machine's load).
    for (const kind of ['put', 'get', 'delete', 'cas']) expect(report!.counts[kind]?.ok ?? 0, `${kind} ops that returned`).to.be.at.least(1)
  })

  it('leaves every member with the same data at the same applied index', () => {
    expect(report!.converged, JSON.stringify(report!.hashes)).to.equal(true)
    expect(report!.hashes.length).to.be.at.least(3)
    expect(new Set(report!.hashes.map((h) => h.hash)).size).to.equal(1)
  })

  it('never lets two clients hold one lock at once, judged by lease validity, and every lock client held a lock', () => {
    const locks = report!.locks!
    expect(locks.violations.flatMap(formatViolation), `violations (output in ${out})`).to.deep.equal([])
    expect(locks.verdict).to.equal('safe')
    const held = readLockHistory(join(out, 'locks.json')).acquisitions
    expect(new Set(held.map((a) => a.clientId)), 'lock clients that acquired').to.deep.equal(new Set([0, 1, 2]))
    expect(locks.tenures, 'acquisitions held before their lease\'s bound').to.be.at.least(3)
  })

  it('injected every kind of fault and changed the membership through the CLI', () => {
    const timeline = JSON.parse(readFileSync(join(out, 'nemesis.json'), 'utf8')) as NemesisEvent[]
    for (const kind of ['kill', 'partition', 'slow', 'pause']) expect(timeline.some((e) => e.nemesis === kind), kind).to.equal(true)
    expect(timeline.filter((e) => e.nemesis === 'members' && e.ok === true).length, 'successful membership changes').to.be.at.least(2)
  })
})
