/**
 * Every `raftctl server start` setting with nothing given takes the default the issue and
 * docs/server.md name; the advertise addresses follow the listen addresses; and a setting found
 * only in the environment or only in the file is taken from there.
 */
import {expect} from 'chai'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {DEFAULTS, SETTINGS} from '../../src/server/config.js'
import {resolveServerConfig} from '../../src/server/config_resolve.js'

describe('server config: defaults of every setting', () => {
  it('resolves every default with nothing given', () => {
    expect(resolveServerConfig({}, {})).to.deep.equal({
      id: 1, name: 'node1', dataDir: resolve('./raftctl-data'),
      listenClient: '127.0.0.1:2379', listenPeer: '127.0.0.1:2380',
      advertiseClient: '127.0.0.1:2379', advertisePeer: '127.0.0.1:2380',
      initialCluster: [{id: 1, peerUrl: '127.0.0.1:2380'}], initialClusterState: 'new', join: undefined,
      tickMs: 100, electionTicks: 10, heartbeatTicks: 1, snapshotCount: 10_000, snapshotCatchUpEntries: 10_000,
      maxLearners: 1, autoCompaction: {mode: 'periodic', retention: 0, checkIntervalMs: 300_000}, leaseCheckpointIntervalMs: 300_000, logLevel: 'info', logFormat: 'text',
      maxRequestBytes: 1_572_864, maxUncommittedBytes: 64 * 1024 * 1024, maxQueuedProposals: 1024, maxUnappliedEntries: 5000,
      maxConcurrentStreams: 2 ** 32 - 1, watchProgressNotifyIntervalMs: 600_000, maxTxnOps: 128,
    })
  })

  it('has a default or a derived value for every setting the issue names', () => {
    const derived = ['name', 'advertise-client', 'advertise-peer', 'initial-cluster', 'join']
    for (const s of SETTINGS) {
      if (derived.includes(s)) expect(DEFAULTS[s], s).to.equal(undefined)
      else expect(DEFAULTS[s], s).to.be.a('string')
    }
  })

  it('advertises the listen addresses unless told otherwise, and the default name follows --id', () => {
    const c = resolveServerConfig({'id': '3', 'listen-client': '10.0.0.5:4001', 'listen-peer': '10.0.0.5:4002'}, {})
    expect(c).to.include({name: 'node3', advertiseClient: '10.0.0.5:4001', advertisePeer: '10.0.0.5:4002'})
    expect(c.initialCluster).to.deep.equal([{id: 3, peerUrl: '10.0.0.5:4002'}])
    const a = resolveServerConfig({'listen-peer': '0.0.0.0:4002', 'advertise-peer': '10.0.0.5:4002',
      'advertise-client': '10.0.0.5:4001'}, {})
    expect(a).to.include({advertiseClient: '10.0.0.5:4001', advertisePeer: '10.0.0.5:4002', listenPeer: '0.0.0.0:4002'})
    expect(a.initialCluster, 'a lone founding member is its advertised peer URL').to.deep.equal([{id: 1, peerUrl: '10.0.0.5:4002'}])
  })

  it('refuses to advertise a wildcard or port-0 listen address, naming the setting to add', () => {
    const refused = (flags: Record<string, string>, env: NodeJS.ProcessEnv = {}) => {
      try {
        resolveServerConfig(flags, env)
      } catch (err) {
        return (err as Error).message
      }
      throw new Error('expected a refusal')
    }
    expect(refused({'listen-peer': '0.0.0.0:4002'})).to.equal(
      'flag --listen-peer: 0.0.0.0:4002 is not an address other members or clients can dial; give --advertise-peer host:port as well')
    expect(refused({'listen-client': '[::]:4001', 'advertise-peer': '10.0.0.5:4002'})).to.equal(
      'flag --listen-client: [::]:4001 is not an address other members or clients can dial; give --advertise-client host:port as well')
    expect(refused({}, {RAFTCTL_LISTEN_PEER: '127.0.0.1:0'})).to.match(/^environment RAFTCTL_LISTEN_PEER: 127\.0\.0\.1:0 is not an address/)
    expect(resolveServerConfig({'listen-peer': '0.0.0.0:0', 'advertise-peer': '10.0.0.5:4002'}, {}).advertisePeer).to.equal('10.0.0.5:4002')
  })

  it('takes a setting found only in the environment, and the environment over the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftctl-config-'))
    try {
      const file = join(dir, 'raftctl.yaml')
      writeFileSync(file, 'snapshot-count: 7\nmax_learners: 3\nlog-level: debug\n')
      const c = resolveServerConfig({}, {RAFTCTL_SNAPSHOT_COUNT: '9', RAFTCTL_HEARTBEAT_TICKS: '2'}, file)
      expect(c).to.include({snapshotCount: 9, heartbeatTicks: 2, maxLearners: 3, logLevel: 'debug'})
      expect(resolveServerConfig({'snapshot-count': '11'}, {RAFTCTL_SNAPSHOT_COUNT: '9'}, file).snapshotCount).to.equal(11)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
