/** --lease-checkpoint-interval: a duration (etcd's 5 minutes by default), 0 for no checkpoints, refused in one line otherwise. */
import {expect} from 'chai'
import {ConfigError} from '../../src/server/config.js'
import {resolveServerConfig} from '../../src/server/config_resolve.js'

describe('server config: --lease-checkpoint-interval', () => {
  it('reads a duration, 0 (no checkpoints) and the default of 5 minutes, from flags or the environment', () => {
    expect(resolveServerConfig({}, {}).leaseCheckpointIntervalMs).to.equal(300_000)
    expect(resolveServerConfig({'lease-checkpoint-interval': '10s'}, {}).leaseCheckpointIntervalMs).to.equal(10_000)
    expect(resolveServerConfig({'lease-checkpoint-interval': '0'}, {}).leaseCheckpointIntervalMs).to.equal(0)
    expect(resolveServerConfig({}, {RAFTCTL_LEASE_CHECKPOINT_INTERVAL: '1m30s'}).leaseCheckpointIntervalMs).to.equal(90_000)
  })

  it('refuses anything else in one line naming the source', () => {
    for (const [v, source] of [['soon', 'flag --lease-checkpoint-interval'], ['-5s', 'flag --lease-checkpoint-interval']] as const) {
      expect(() => resolveServerConfig({'lease-checkpoint-interval': v}, {})).to.throw(ConfigError,
        `${source}: "${v}" is not a duration from 1ms to 2147483647ms such as 5m or 10s, or 0 (no checkpoints)`)
    }
    expect(() => resolveServerConfig({}, {RAFTCTL_LEASE_CHECKPOINT_INTERVAL: 'x'})).to.throw(ConfigError, /^environment RAFTCTL_LEASE_CHECKPOINT_INTERVAL: "x"/)
  })
})
