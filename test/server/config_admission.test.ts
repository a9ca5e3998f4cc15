/**
 * Issue 11 §3: the admission-control settings of `raftctl server start` — --max-request-bytes
 * (etcd's default 1.5 MiB), --max-uncommitted-bytes, --max-queued-proposals,
 * --max-unapplied-entries (etcd's 5,000) and --max-concurrent-streams (etcd's, no limit) — resolve like every setting (flag > environment >
 * file > default) and bad values are refused naming their source.
 */
import {expect} from 'chai'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {ConfigError, DEFAULTS} from '../../src/server/config.js'
import {MAX_REQUEST_BYTES_LIMIT, resolveServerConfig} from '../../src/server/config_resolve.js'

describe('server config: admission-control settings', () => {
  let dir: string
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'raftctl-config-')) })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('defaults to etcd\'s request size, commit-apply gap, streams and txn ops, 64 MiB uncommitted and 1024 queued proposals', () => {
    expect(resolveServerConfig({}, {})).to.include({
      maxRequestBytes: 1_572_864, maxUncommittedBytes: 67_108_864, maxQueuedProposals: 1024, maxUnappliedEntries: 5000,
      maxConcurrentStreams: 4_294_967_295, maxTxnOps: 128,
    })
    expect(DEFAULTS['max-request-bytes']).to.equal(String(1.5 * 1024 * 1024))
  })

  it('takes a flag over the environment over the file over the default', () => {
    const file = join(dir, 'raftctl.yaml')
    writeFileSync(file, 'max-request-bytes: 4096\nmax_queued_proposals: 7\nmax-unapplied-entries: 9\n')
    const env = {RAFTCTL_MAX_QUEUED_PROPOSALS: '8', RAFTCTL_MAX_UNAPPLIED_ENTRIES: '10'}
    const c = resolveServerConfig({'max-unapplied-entries': '11'}, env, file)
    expect(c).to.include({maxRequestBytes: 4096, maxQueuedProposals: 8, maxUnappliedEntries: 11, maxUncommittedBytes: 67_108_864})
  })

  it('refuses values out of range, naming the source', () => {
    const refused = (flags: Record<string, string>, env: NodeJS.ProcessEnv = {}): string => {
      try {
        resolveServerConfig(flags, env)
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError)
        return (err as Error).message
      }
      throw new Error('expected a refusal')
    }
    expect(refused({'max-request-bytes': '0'})).to.equal(`flag --max-request-bytes: "0" is not an integer 1..${MAX_REQUEST_BYTES_LIMIT}`)
    expect(refused({'max-request-bytes': String(MAX_REQUEST_BYTES_LIMIT + 1)})).to.match(/^flag --max-request-bytes: "536870913" is not an integer/)
    expect(refused({}, {RAFTCTL_MAX_QUEUED_PROPOSALS: 'many'})).to.equal('environment RAFTCTL_MAX_QUEUED_PROPOSALS: "many" is not an integer >= 1')
    expect(refused({'max-unapplied-entries': '-1'})).to.equal('flag --max-unapplied-entries: "-1" is not an integer >= 1')
    expect(refused({'max-concurrent-streams': '0'})).to.equal('flag --max-concurrent-streams: "0" is not an integer 1..4294967295')
    expect(refused({'max-concurrent-streams': '4294967296'})).to.match(/^flag --max-concurrent-streams: "4294967296" is not an integer/)
    expect(resolveServerConfig({'max-concurrent-streams': '64'}, {}).maxConcurrentStreams).to.equal(64)
    expect(refused({'max-txn-ops': '0'})).to.equal('flag --max-txn-ops: "0" is not an integer >= 1')
    expect(refused({}, {RAFTCTL_MAX_TXN_OPS: 'lots'})).to.equal('environment RAFTCTL_MAX_TXN_OPS: "lots" is not an integer >= 1')
    expect(resolveServerConfig({'max-txn-ops': '4'}, {}).maxTxnOps).to.equal(4)
    expect(refused({'max-uncommitted-bytes': '1.5'})).to.equal('flag --max-uncommitted-bytes: "1.5" is not an integer >= 1')
    expect(refused({'max-uncommitted-bytes': '1000000'})).to.equal(
      '--max-uncommitted-bytes (1000000) must be at least --max-request-bytes (1572864)')
  })
})
