import {expect} from 'chai'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {ConfigError, envName} from '../../src/server/config.js'
import {parseInitialCluster, resolveServerConfig} from '../../src/server/config_resolve.js'

describe('server config: flag > env > file > default', () => {
  let dir: string
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'raftctl-config-')) })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('with nothing given bootstraps a single node on 127.0.0.1 with ./raftctl-data', () => {
    const c = resolveServerConfig({}, {})
    expect(c).to.include({
      id: 1, name: 'node1', dataDir: resolve('./raftctl-data'), listenClient: '127.0.0.1:2379',
      listenPeer: '127.0.0.1:2380', advertisePeer: '127.0.0.1:2380', initialClusterState: 'new',
      tickMs: 100, electionTicks: 10, heartbeatTicks: 1, maxLearners: 1, logFormat: 'text',
    })
    expect(c.initialCluster).to.deep.equal([{id: 1, peerUrl: '127.0.0.1:2380'}])
  })

  it('takes a flag over the environment over the file over the default', () => {
    const file = join(dir, 'raftctl.yaml')
    writeFileSync(file, 'tick-ms: 50\nelection_ticks: 20\nname: from-file\nlog-format: json\n')
    const env = {RAFTCTL_TICK_MS: '70', RAFTCTL_NAME: 'from-env'}
    const c = resolveServerConfig({name: 'from-flag'}, env, file)
    expect(c.name).to.equal('from-flag')
    expect(c.tickMs).to.equal(70)
    expect(c.electionTicks).to.equal(20)
    expect(c.logFormat).to.equal('json')
    expect(c.heartbeatTicks).to.equal(1)
  })

  it('refuses a RAFTCTL_* variable that is set but empty, unless a flag overrides it', () => {
    expect(() => resolveServerConfig({}, {RAFTCTL_DATA_DIR: ''})).to.throw(ConfigError, /environment RAFTCTL_DATA_DIR is set but empty/)
    expect(resolveServerConfig({'data-dir': join(dir, 'd')}, {RAFTCTL_DATA_DIR: ''}).dataDir).to.equal(join(dir, 'd'))
  })

  it('names the environment variable of each setting', () => {
    expect(envName('data-dir')).to.equal('RAFTCTL_DATA_DIR')
    expect(envName('initial-cluster-state')).to.equal('RAFTCTL_INITIAL_CLUSTER_STATE')
  })

  it('names the source of a bad value', () => {
    expect(() => resolveServerConfig({'tick-ms': 'fast'}, {})).to.throw(ConfigError, /flag --tick-ms: "fast" is not an integer/)
    expect(() => resolveServerConfig({}, {RAFTCTL_ID: '-3'})).to.throw(ConfigError, /environment RAFTCTL_ID/)
    expect(() => resolveServerConfig({'listen-peer': 'nope'}, {})).to.throw(ConfigError, /--listen-peer "nope" is not host:port/)
    expect(() => resolveServerConfig({'log-format': 'xml'}, {})).to.throw(ConfigError, /must be one of text, json/)
    expect(() => resolveServerConfig({'heartbeat-ticks': '10'}, {})).to.throw(ConfigError, /must be less than --election-ticks/)
  })

  it('refuses unknown keys and non-YAML config files, naming the file', () => {
    const bad = join(dir, 'bad.yaml')
    writeFileSync(bad, 'tick-ms: 50\nbogus: 1\n')
    expect(() => resolveServerConfig({}, {}, bad)).to.throw(ConfigError, /bad.yaml has unknown setting "bogus"/)
    writeFileSync(bad, 'a: [unclosed\n')
    expect(() => resolveServerConfig({}, {}, bad)).to.throw(ConfigError, /not valid YAML/)
    expect(() => resolveServerConfig({}, {}, join(dir, 'missing.yaml'))).to.throw(ConfigError, /cannot read config file/)
  })

  it('parses --initial-cluster and refuses duplicates, bad ids and a cluster without this node', () => {
    expect(parseInitialCluster('x', '1=127.0.0.1:2380, 2=127.0.0.1:2381'))
      .to.deep.equal([{id: 1, peerUrl: '127.0.0.1:2380'}, {id: 2, peerUrl: '127.0.0.1:2381'}])
    expect(() => parseInitialCluster('x', '1=a:1,1=b:2')).to.throw(ConfigError, /appears twice/)
    expect(() => parseInitialCluster('x', '0=a:1')).to.throw(ConfigError, /not a positive integer/)
    expect(() => parseInitialCluster('x', '1=a')).to.throw(ConfigError, /not host:port/)
    expect(() => resolveServerConfig({'id': '3', 'initial-cluster': '1=127.0.0.1:2380'}, {}))
      .to.throw(ConfigError, /does not include this node's id 3/)
  })

  it('--join implies an existing cluster', () => {
    const c = resolveServerConfig({'id': '4', 'join': '127.0.0.1:2379', 'initial-cluster': '4=127.0.0.1:2390'}, {})
    expect(c.initialClusterState).to.equal('existing')
    expect(c.join).to.equal('127.0.0.1:2379')
  })
})
