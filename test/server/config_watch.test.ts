/** --experimental-watch-progress-notify-interval: etcd's flag and default, read as a duration like every timer setting. */
import {expect} from 'chai'
import {ConfigError} from '../../src/server/config.js'
import {resolveServerConfig} from '../../src/server/config_resolve.js'

describe('server config: the watch progress interval', () => {
  it('defaults to etcd\'s 10 minutes and takes a duration from a flag or the environment', () => {
    expect(resolveServerConfig({}, {}).watchProgressNotifyIntervalMs).to.equal(600_000)
    expect(resolveServerConfig({'experimental-watch-progress-notify-interval': '500ms'}, {}).watchProgressNotifyIntervalMs).to.equal(500)
    expect(resolveServerConfig({}, {RAFTCTL_EXPERIMENTAL_WATCH_PROGRESS_NOTIFY_INTERVAL: '1m30s'}).watchProgressNotifyIntervalMs).to.equal(90_000)
  })

  it('refuses what is not a duration a timer can wait, naming the flag and the value', () => {
    for (const bad of ['0s', 'soon', '-1s', '30d']) {
      expect(() => resolveServerConfig({'experimental-watch-progress-notify-interval': bad}, {}), bad).to.throw(ConfigError,
        new RegExp(`^flag --experimental-watch-progress-notify-interval: "${bad}" is not a duration from 1ms to 2147483647ms such as 10m or 500ms$`))
    }
  })
})
