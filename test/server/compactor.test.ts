/**
 * Auto-compaction as etcd 3.4's v3compactor: the settings (--auto-compaction-mode,
 * --auto-compaction-retention, the revision-mode check interval), the periodic plan (sample every
 * P/10, compact to the revision of about P ago), and that only a leader proposes.
 */
import {expect} from 'chai'
import {AutoCompactor, type AutoCompactionConfig, periodicPlan} from '../../src/server/compactor.js'
import {durationMs} from '../../src/raftpb/duration.js'
import {resolveServerConfig} from '../../src/server/config_resolve.js'

const HOUR = 3_600_000

function refused(flags: Record<string, string>): string {
  try {
    resolveServerConfig(flags, {})
  } catch (err) {
    return (err as Error).message
  }
  throw new Error('expected a refusal')
}

/** A host whose revision advances by one per sample and that records what it is asked to compact. */
class FakeHost {
  rev = 1
  leader = true
  readonly compacted: number[] = []
  isLeader = (): boolean => this.leader
  revision = (): number => this.rev
  compact = async (r: number): Promise<void> => { this.compacted.push(r) }
  log = (): void => {}
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

describe('server/compactor (auto-compaction)', () => {
  it('parses etcd\'s settings: durations or hours for periodic, revisions for revision mode, 0 = off', () => {
    expect(resolveServerConfig({}, {}).autoCompaction).to.deep.equal({mode: 'periodic', retention: 0, checkIntervalMs: 300_000})
    expect(resolveServerConfig({'auto-compaction-retention': '1'}, {}).autoCompaction.retention).to.equal(HOUR)
    expect(resolveServerConfig({'auto-compaction-retention': '90s'}, {}).autoCompaction.retention).to.equal(90_000)
    expect(resolveServerConfig({}, {RAFTCTL_AUTO_COMPACTION_RETENTION: '1h30m'}).autoCompaction.retention).to.equal(1.5 * HOUR)
    expect(resolveServerConfig({'auto-compaction-mode': 'revision', 'auto-compaction-retention': '1000', 'auto-compaction-check-interval': '250ms'}, {})
      .autoCompaction).to.deep.equal({mode: 'revision', retention: 1000, checkIntervalMs: 250})
    expect(refused({'auto-compaction-mode': 'hourly'})).to.equal('flag --auto-compaction-mode: "hourly" must be one of periodic, revision')
    expect(refused({'auto-compaction-retention': 'soon'})).to.equal(
      'flag --auto-compaction-retention: "soon" is not a duration such as 30m or 1h, or a whole number of hours (0 disables auto-compaction)')
    expect(refused({'auto-compaction-mode': 'revision', 'auto-compaction-retention': '5m'})).to.equal(
      'flag --auto-compaction-retention: "5m" is not a whole number of revisions to keep (0 disables auto-compaction)')
    expect(refused({'auto-compaction-check-interval': '0s'})).to.equal(
      'flag --auto-compaction-check-interval: "0s" is not a duration from 1ms to 2147483647ms such as 5m or 500ms')
    expect(refused({'auto-compaction-check-interval': '600h'})).to.match(/"600h" is not a duration from 1ms to 2147483647ms/)
    expect(durationMs('1.5h')).to.equal(1.5 * HOUR)
    expect(durationMs('1h30m')).to.equal(1.5 * HOUR)
    expect(durationMs('500ms')).to.equal(500)
    expect(durationMs('5'), 'a bare number needs the caller\'s unit').to.equal(undefined)
    expect(durationMs('5', 's')).to.equal(5000)
  })

  it('plans a periodic compactor as etcd: samples every P/10 (at most 6 minutes), keeps P/(P/10) + 1 samples', () => {
    expect(periodicPlan(HOUR)).to.deep.equal({sampleMs: 360_000, compactMs: HOUR, samples: 11})
    expect(periodicPlan(24 * HOUR)).to.deep.equal({sampleMs: 360_000, compactMs: HOUR, samples: 241})
    expect(periodicPlan(5000)).to.deep.equal({sampleMs: 500, compactMs: 5000, samples: 11})
  })

  it('periodic: after one retention period compacts to the revision of about one period ago, then every period', async () => {
    const host = new FakeHost()
    const cfg: AutoCompactionConfig = {mode: 'periodic', retention: 200, checkIntervalMs: 1}
    const c = new AutoCompactor(cfg, {...host, revision: () => host.rev++})
    const started = Date.now()
    c.start()
    try {
      await until('the first compaction', () => host.compacted.length >= 1)
      expect(Date.now() - started, 'not before one period').to.be.at.least(190)
      expect(host.compacted[0], 'the oldest of the 11 samples kept').to.equal(1)
      // Later compactions follow every period, each to the oldest sample kept (the same one again
      // while fewer than 11 samples were taken since, which the store answers as already compacted).
      await until('a compaction to a later revision', () => host.compacted.some((r) => r > host.compacted[0]))
      expect(host.compacted, 'never backwards').to.deep.equal([...host.compacted].sort((a, b) => a - b))
    } finally {
      c.stop()
    }
  })

  it('revision: compacts to revision - N when above 0 and new; only while leading', async () => {
    const host = new FakeHost()
    host.rev = 5
    const c = new AutoCompactor({mode: 'revision', retention: 10, checkIntervalMs: 10}, host)
    c.start()
    try {
      await sleep(60)
      expect(host.compacted, 'revision 5 - 10 is not above 0').to.deep.equal([])
      host.rev = 25
      await until('a compaction to 15', () => host.compacted.length === 1)
      await sleep(60)
      expect(host.compacted, 'the same revision is not compacted twice').to.deep.equal([15])
      host.leader = false
      host.rev = 40
      await sleep(60)
      expect(host.compacted, 'a follower proposes nothing').to.deep.equal([15])
      host.leader = true
      await until('a compaction to 30', () => host.compacted.length === 2)
      expect(host.compacted).to.deep.equal([15, 30])
    } finally {
      c.stop()
    }
  })

  it('does nothing with retention 0, and treats an already compacted revision as done', async () => {
    const host = new FakeHost()
    const off = new AutoCompactor({mode: 'revision', retention: 0, checkIntervalMs: 1}, {...host, revision: () => 100})
    off.start()
    await sleep(30)
    off.stop()
    expect(host.compacted).to.deep.equal([])
    let calls = 0
    const c = new AutoCompactor({mode: 'revision', retention: 1, checkIntervalMs: 5}, {
      ...host, revision: () => 10,
      compact: async () => {
        calls += 1
        throw Object.assign(new Error('compacted'), {code: 'COMPACTED'})
      },
    })
    c.start()
    await sleep(80)
    c.stop()
    expect(calls, 'tried once, then counted as done').to.equal(1)
  })
})
