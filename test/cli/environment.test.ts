/**
 * A flag's environment variable that is set but empty is an error naming the variable, not a
 * silent fallback to the default (RAFTCTL_ENDPOINTS="" used to talk to 127.0.0.1:2379).
 */
import {expect} from 'chai'
import {checkFlagEnvironment} from '../../src/cli/base.js'
import {errorLine, runCli} from '../commands/cli_harness.js'
import {ensureBuilt} from '../integration/harness.js'

describe('flag environment variables', function () {
  this.timeout(60_000)
  const FLAGS = {endpoints: {env: 'RAFTCTL_ENDPOINTS'}, 'write-out': {env: 'RAFTCTL_WRITE_OUT'}, limit: {}}

  it('refuses one that is set but empty or blank, unless the flag itself is given', () => {
    expect(() => checkFlagEnvironment(FLAGS, new Set(), {RAFTCTL_ENDPOINTS: ''}))
      .to.throw('RAFTCTL_ENDPOINTS is set but empty; give it a value (as for --endpoints) or unset it')
    expect(() => checkFlagEnvironment(FLAGS, new Set(), {RAFTCTL_WRITE_OUT: '  '})).to.throw(/^RAFTCTL_WRITE_OUT is set but empty/)
    expect(() => checkFlagEnvironment(FLAGS, new Set(['endpoints']), {RAFTCTL_ENDPOINTS: ''})).to.not.throw()
    expect(() => checkFlagEnvironment(FLAGS, new Set(), {RAFTCTL_ENDPOINTS: '127.0.0.1:1'})).to.not.throw()
    expect(() => checkFlagEnvironment(FLAGS, new Set(), {})).to.not.throw()
  })

  it('the built CLI refuses RAFTCTL_ENDPOINTS="" in one line, before contacting anything', async () => {
    ensureBuilt()
    const r = await runCli(['kv', 'get', 'k', '--timeout', '1s'], {env: {RAFTCTL_ENDPOINTS: ''}})
    expect(r.code).to.equal(1)
    expect(errorLine(r)).to.equal('Error: RAFTCTL_ENDPOINTS is set but empty; give it a value (as for --endpoints) or unset it')
    const snap = await runCli(['snapshot', 'inspect', 'x.snap'], {env: {RAFTCTL_WRITE_OUT: ''}})
    expect(errorLine(snap)).to.equal('Error: RAFTCTL_WRITE_OUT is set but empty; give it a value (as for --write-out) or unset it')
  })
})
