/**
 * Every duration a command takes is range-checked with a clear one-line error: Node.js timers
 * fire at once for anything above 2^31-1 ms, so a longer --timeout used to expire immediately
 * (after the write had been sent). Covers parseDuration, the server's timing settings, and — run
 * through the built CLI — every duration flag of every command (a new one fails this test until
 * it is listed here with its refusal).
 */
import {Config} from '@oclif/core'
import {expect} from 'chai'
import {MAX_DURATION_MS, parseDuration} from '../../src/cli/base.js'
import {ConfigError} from '../../src/server/config.js'
import {MAX_ELECTION_TIMEOUT_MS, resolveServerConfig} from '../../src/server/config_resolve.js'
import {errorLine, runCli} from '../commands/cli_harness.js'
import {ensureBuilt, REPO_ROOT} from '../integration/harness.js'

describe('duration flags: ranges Node.js timers can honour', function () {
  this.timeout(60_000)

  it('parseDuration accepts 1ms up to 2^31-1 ms and refuses the rest in one line naming the flag', () => {
    expect(MAX_DURATION_MS).to.equal(2147483647)
    expect(parseDuration('1ms')).to.equal(1)
    expect(parseDuration('2147483647ms')).to.equal(MAX_DURATION_MS)
    expect(parseDuration('35791m')).to.equal(35791 * 60_000)
    expect(parseDuration('1.5s', '--wait-timeout')).to.equal(1500)
    const refused = (text: string, flag = '--timeout'): string => {
      try {
        parseDuration(text, flag)
      } catch (err) {
        return (err as Error).message
      }
      throw new Error(`${text} was accepted`)
    }
    expect(refused('2147483648ms')).to.equal('--timeout "2147483648ms" is too long; the longest is 2147483647ms (about 24.8 days)')
    expect(refused('3000000s', '--wait-timeout')).to.equal('--wait-timeout "3000000s" is too long; the longest is 2147483647ms (about 24.8 days)')
    expect(refused('35792m')).to.match(/is too long/)
    expect(refused('1e400')).to.equal('--timeout "1e400" is not a duration such as 500ms, 5s or 2m')
    expect(refused('99999999999999999999999999m')).to.match(/is too long/)
    expect(refused('0')).to.equal('--timeout "0" must be at least 1ms')
    expect(refused('0.4ms')).to.equal('--timeout "0.4ms" must be at least 1ms')
  })

  it('server start refuses an election timeout (--election-ticks × --tick-ms) above 50 s, from flags or the environment', () => {
    expect(MAX_ELECTION_TIMEOUT_MS).to.equal(50_000)
    expect(resolveServerConfig({'tick-ms': '100', 'election-ticks': '500'}, {}).electionTicks).to.equal(500)
    expect(() => resolveServerConfig({'tick-ms': '100', 'election-ticks': '501'}, {})).to.throw(ConfigError,
      '--election-ticks (501) × --tick-ms (100) is an election timeout of 50100 ms; the longest is 50000 ms')
    expect(() => resolveServerConfig({}, {RAFTCTL_ELECTION_TICKS: '9007199254740991'})).to.throw(ConfigError, /the longest is 50000 ms/)
    expect(() => resolveServerConfig({'tick-ms': '60001'}, {})).to.throw(ConfigError, /flag --tick-ms: "60001" is not an integer 1\.\.60000/)
  })

  /** Each duration flag, a value beyond its range, and the one error line it must give. */
  const CASES: Record<string, {args: string[], error: RegExp}> = {
    'timeout': {args: ['kv', 'get', 'k', '--timeout', '3000000s'], error: /^Error: --timeout "3000000s" is too long/},
    'wait-timeout': {args: ['member', 'promote', '4', '--wait', '--wait-timeout', '2147483648ms'], error: /^Error: --wait-timeout "2147483648ms" is too long/},
    'tick-ms': {args: ['server', 'start', '--tick-ms', '2147483648'], error: /^Error: flag --tick-ms: "2147483648" is not an integer 1\.\.60000$/},
    'election-ticks': {args: ['server', 'start', '--election-ticks', '100000'], error: /^Error: --election-ticks \(100000\) × --tick-ms \(100\) is an election timeout/},
    'heartbeat-ticks': {args: ['server', 'start', '--heartbeat-ticks', '100000'], error: /^Error: --heartbeat-ticks \(100000\) must be less than --election-ticks/},
    'auto-compaction-check-interval': {args: ['server', 'start', '--auto-compaction-check-interval', '3000000s'],
      error: /^Error: flag --auto-compaction-check-interval: "3000000s" is not a duration from 1ms to 2147483647ms such as 5m or 500ms$/},
    'experimental-watch-progress-notify-interval': {args: ['server', 'start', '--experimental-watch-progress-notify-interval', '3000000s'],
      error: /^Error: flag --experimental-watch-progress-notify-interval: "3000000s" is not a duration from 1ms to 2147483647ms such as 10m or 500ms$/},
    'lease-checkpoint-interval': {args: ['server', 'start', '--lease-checkpoint-interval', '3000000s'],
      error: /^Error: flag --lease-checkpoint-interval: "3000000s" is not a duration from 1ms to 2147483647ms such as 5m or 10s, or 0 \(no checkpoints\)$/},
  }

  it('every command refuses an out-of-range duration in one line, before contacting anything', async () => {
    ensureBuilt()
    const config = await Config.load(REPO_ROOT)
    const durationFlags = new Set(config.commands.filter((c) => c.pluginName === config.name)
      .flatMap((c) => Object.keys(c.flags)).filter((f) => /timeout|-ms$|ticks$|interval|delay|duration/.test(f)))
    expect([...durationFlags].sort(), 'duration flags of the commands (add a case for a new one)').to.deep.equal(Object.keys(CASES).sort())
    for (const [flag, c] of Object.entries(CASES)) {
      // Client commands point at a port nothing listens on; server start fails before opening its data dir.
      const args = c.args[0] === 'server' ? c.args : [...c.args, '--endpoints', '127.0.0.1:1']
      const r = await runCli(args, {env: {RAFTCTL_DATA_DIR: '/nonexistent/raftctl-duration-test'}})
      expect(r.code, `${flag}: ${r.stderr}`).to.not.equal(0)
      expect(errorLine(r), flag).to.match(c.error)
    }
  })
})
