/**
 * Reproduces against a real etcd 3.4 every error case of ETCD_ERRORS (etcd_errors.ts) that a 3.4
 * cluster can produce, through our generated gRPC clients (the exact status) and through etcdctl
 * (the line its users see). These are the facts docs/etcd-compatibility.md records; the same
 * table is what raftctl's answers will be compared with.
 */
import {expect} from 'chai'
import {waitFor} from '../integration/harness.js'
import {call, deleteReq, etcdClients, failureOf, putReq, rangeReq, watchCreate, watchFor} from './etcd_grpc.js'
import {ETCD_ERRORS as E, GRPC_OVERHEAD_BYTES} from './etcd_facts.js'
import {type EtcdCluster, etcdctl, requireEtcd, startEtcd, stopAllEtcd} from './etcd_harness.js'

/** The last line etcdctl printed on stderr (before it, clientv3 may log a JSON warning). */
const lastLine = (s: string): string => s.trimEnd().split('\n').pop() ?? ''
const put = (k: string) => ({requestPut: putReq(k)})

describe('compat: etcd 3.4 errors, observed', function () {
  this.timeout(90_000)
  before(function () { requireEtcd(this) })
  after(stopAllEtcd)

  describe('on one member with --max-txn-ops 4 --max-request-bytes 4096', () => {
    let etcd: EtcdCluster
    let c: ReturnType<typeof etcdClients>
    before(async () => {
      etcd = await startEtcd({extraArgs: ['--max-txn-ops', '4', '--max-request-bytes', '4096']})
      c = etcdClients(etcd.endpoints()[0])
      for (const v of ['v1', 'v2', 'v3']) await call(c.kv, c.kv.put, putReq('k', v)) // revisions 2, 3, 4
      await call(c.kv, c.kv.compact, {revision: 3, physical: true})
    })
    after(() => c.close())

    it('compacted and future revisions: OUT_OF_RANGE for Range and Compact, etcdctl prints the message', async () => {
      expect(await failureOf(call(c.kv, c.kv.range, rangeReq('k', {revision: 2})))).to.deep.equal(E.compacted)
      expect(await failureOf(call(c.kv, c.kv.compact, {revision: 3, physical: false}))).to.deep.equal(E.compacted)
      expect(await failureOf(call(c.kv, c.kv.range, rangeReq('k', {revision: 100})))).to.deep.equal(E.futureRevision)
      expect(await failureOf(call(c.kv, c.kv.compact, {revision: 100, physical: false}))).to.deep.equal(E.futureRevision)
      const old = await etcdctl(etcd.endpoints(), ['get', 'k', '--rev', '2'])
      expect([old.code, lastLine(old.stderr)]).to.deep.equal([1, `Error: ${E.compacted.details}`])
      const future = await etcdctl(etcd.endpoints(), ['get', 'k', '--rev', '100'])
      expect([future.code, lastLine(future.stderr)]).to.deep.equal([1, `Error: ${E.futureRevision.details}`])
    })

    it('a watch from a compacted revision is created, then cancelled with compact_revision and no reason', async () => {
      const {responses, error} = await watchFor(c.watch, watchCreate('k', 1), 1000)
      expect(error).to.equal(undefined)
      expect(responses.map((r) => [r.created, r.canceled, r.compactRevision, r.cancelReason, r.header!.revision]))
        .to.deep.equal([[true, false, 0, '', 4], [false, true, 3, '', 0]])
      const w = await etcdctl(etcd.endpoints(), ['watch', 'k', '--rev', '1'])
      expect(w).to.include({code: 5, stdout: '', stderr: `watch was canceled (${E.compacted.details})\nError: watch is canceled by the server\n`})
    })

    it('txn limits: too many operations, and a key written twice in one branch, are INVALID_ARGUMENT', async () => {
      const txn = (success: object[], failure: object[] = []) => call(c.kv, c.kv.txn, {compare: [], success, failure} as never)
      expect(await failureOf(txn([put('a'), put('b'), put('c'), put('d'), put('e')]))).to.deep.equal(E.tooManyOps)
      expect(await failureOf(txn([put('a'), put('a')]))).to.deep.equal(E.duplicateKey)
      expect(await failureOf(txn([put('a'), {requestDeleteRange: deleteReq('a', 'b')}]))).to.deep.equal(E.duplicateKey)
      const nested = {requestTxn: {compare: [], success: [put('a')], failure: []}}
      expect(await failureOf(txn([put('a'), nested]))).to.deep.equal(E.duplicateKey)
      const branches = await txn([put('a')], [put('a')])
      expect(branches.succeeded).to.equal(true)
      const twice = await etcdctl(etcd.endpoints(), ['txn'], {input: '\n\nput a 1\nput a 2\n\n'})
      expect([twice.code, lastLine(twice.stderr)]).to.deep.equal([1, `Error: ${E.duplicateKey.details}`])
    })

    it('a request over --max-request-bytes is INVALID_ARGUMENT; over it plus 512 KiB gRPC itself refuses it', async () => {
      expect(await failureOf(call(c.kv, c.kv.put, putReq('big', 'x'.repeat(5000))))).to.deep.equal(E.requestTooLarge)
      const huge = await failureOf(call(c.kv, c.kv.put, putReq('big', 'x'.repeat(4096 + GRPC_OVERHEAD_BYTES))))
      expect(huge.code).to.equal('RESOURCE_EXHAUSTED')
      expect(huge.details).to.match(/^grpc: received message larger than max \(\d+ vs\. 528384\)$/)
      const r = await etcdctl(etcd.endpoints(), ['put', 'big', 'x'.repeat(5000)])
      expect([r.code, lastLine(r.stderr)]).to.deep.equal([1, `Error: ${E.requestTooLarge.details}`])
    })

    it('empty keys, and ignore_value / ignore_lease misuse, are INVALID_ARGUMENT', async () => {
      expect(await failureOf(call(c.kv, c.kv.put, putReq('')))).to.deep.equal(E.emptyKey)
      expect(await failureOf(call(c.kv, c.kv.range, rangeReq('')))).to.deep.equal(E.emptyKey)
      expect(await failureOf(call(c.kv, c.kv.deleteRange, deleteReq('')))).to.deep.equal(E.emptyKey)
      expect(await failureOf(call(c.kv, c.kv.put, putReq('missing', '', {ignoreValue: true})))).to.deep.equal(E.keyNotFound)
      expect(await failureOf(call(c.kv, c.kv.put, putReq('missing', '', {ignoreLease: true})))).to.deep.equal(E.keyNotFound)
      expect(await failureOf(call(c.kv, c.kv.put, putReq('k', 'x', {ignoreValue: true})))).to.deep.equal(E.valueProvided)
      expect(await failureOf(call(c.kv, c.kv.put, putReq('k', '', {ignoreLease: true, lease: 5n})))).to.deep.equal(E.leaseProvided)
      const r = await etcdctl(etcd.endpoints(), ['put', 'missing', '--ignore-value'])
      expect([r.code, lastLine(r.stderr)]).to.deep.equal([1, `Error: ${E.keyNotFound.details}`])
    })

    it('an unknown lease is NOT_FOUND for revoke and for a put; its time-to-live is -1, not an error', async () => {
      expect(await failureOf(call(c.lease, c.lease.leaseRevoke, {ID: 1234n}))).to.deep.equal(E.leaseNotFound)
      expect(await failureOf(call(c.kv, c.kv.put, putReq('k', 'x', {lease: 1234n})))).to.deep.equal(E.leaseNotFound)
      const ttl = await call(c.lease, c.lease.leaseTimeToLive, {ID: 1234n, keys: true})
      expect([ttl.ID, ttl.TTL, ttl.grantedTTL, ttl.keys]).to.deep.equal([1234n, -1, 0, []])
      const r = await etcdctl(etcd.endpoints(), ['lease', 'revoke', '4d2'])
      expect([r.code, lastLine(r.stderr)]).to.deep.equal([1, `Error: failed to revoke lease (${E.leaseNotFound.details})`])
    })

    it('membership: unknown ids are NOT_FOUND; promoting a voter or an unsynced learner, a used peer URL and a second learner are FAILED_PRECONDITION', async () => {
      // One at a time: etcd drops a conf change proposed while another is pending, and the
      // dropped one's caller waits until "etcdserver: request timed out".
      expect(await failureOf(call(c.cluster, c.cluster.memberRemove, {ID: 1234n}))).to.deep.equal(E.memberNotFound)
      expect(await failureOf(call(c.cluster, c.cluster.memberUpdate, {ID: 1234n, peerURLs: ['http://127.0.0.1:2']}))).to.deep.equal(E.memberNotFound)
      expect(await failureOf(call(c.cluster, c.cluster.memberPromote, {ID: 1234n}))).to.deep.equal(E.memberNotFound)
      const self = (await call(c.maintenance, c.maintenance.status, {})).header!.memberId
      expect(await failureOf(call(c.cluster, c.cluster.memberPromote, {ID: self}))).to.deep.equal(E.memberNotLearner)
      expect(await failureOf(call(c.cluster, c.cluster.memberAdd, {peerURLs: ['not a url'], isLearner: true}))).to.deep.equal(E.memberBadURLs)
      expect(await failureOf(call(c.cluster, c.cluster.memberAdd, {peerURLs: [etcd.members[0].peerUrl], isLearner: true}))).to.deep.equal(E.peerURLExists)
      const learner = (await call(c.cluster, c.cluster.memberAdd, {peerURLs: ['http://127.0.0.1:1'], isLearner: true})).member!
      expect(await failureOf(call(c.cluster, c.cluster.memberPromote, {ID: learner.ID}))).to.deep.equal(E.learnerNotReady)
      expect(await failureOf(call(c.cluster, c.cluster.memberAdd, {peerURLs: ['http://127.0.0.1:3'], isLearner: true}))).to.deep.equal(E.tooManyLearners)
      const eps = etcd.endpoints()
      const lines: unknown[] = []
      for (const a of [['member', 'remove', '4d2'], ['member', 'promote', learner.ID.toString(16)], ['member', 'add', 'l2', '--learner', '--peer-urls', 'http://127.0.0.1:3']]) {
        const r = await etcdctl(eps, a)
        lines.push([r.code, lastLine(r.stderr)])
      }
      expect(lines).to.deep.equal([[1, `Error: ${E.memberNotFound.details}`], [1, `Error: ${E.learnerNotReady.details}`],
        [1, `Error: ${E.tooManyLearners.details}`]])
      await call(c.cluster, c.cluster.memberRemove, {ID: learner.ID})
    })
  })

  it('with one of three members down, adding or removing a member is UNAVAILABLE "unhealthy cluster"', async () => {
    const etcd = await startEtcd({members: 3})
    await etcd.members[2].stop()
    const c = etcdClients(etcd.members[0].endpoint)
    try {
      const self = (await call(c.maintenance, c.maintenance.status, {})).header!.memberId
      await waitFor('the stopped member seen as unreachable', async () =>
        (await failureOf(call(c.cluster, c.cluster.memberAdd, {peerURLs: ['http://127.0.0.1:1'], isLearner: true}))).details === E.unhealthyCluster.details)
      expect(await failureOf(call(c.cluster, c.cluster.memberAdd, {peerURLs: ['http://127.0.0.1:1'], isLearner: false}))).to.deep.equal(E.unhealthyCluster)
      expect(await failureOf(call(c.cluster, c.cluster.memberRemove, {ID: self}))).to.deep.equal(E.unhealthyCluster)
      const r = await etcdctl(etcd.endpoints().slice(0, 2), ['member', 'add', 'x', '--peer-urls', 'http://127.0.0.1:1'])
      expect([r.code, lastLine(r.stderr)]).to.deep.equal([1, `Error: ${E.unhealthyCluster.details}`])
    } finally {
      c.close()
      await etcd.stop()
    }
  })

  it('without a leader: requests asking for one are UNAVAILABLE "no leader"; others wait for their deadline', async () => {
    const etcd = await startEtcd()
    const c = etcdClients(etcd.members[0].endpoint)
    const hasleader = {hasleader: 'true'}
    try {
      // etcd lets a one-member cluster add a second voter; until it starts there is no quorum.
      await call(c.cluster, c.cluster.memberAdd, {peerURLs: ['http://127.0.0.1:1'], isLearner: false})
      const status = await waitFor('the leader to step down', async () => {
        const s = await call(c.maintenance, c.maintenance.status, {})
        return s.leader === 0n ? s : undefined
      })
      expect(status.errors).to.deep.equal([E.noLeader.details])
      expect(await failureOf(call(c.kv, c.kv.range, rangeReq('a', {serializable: true}), hasleader))).to.deep.equal(E.noLeader)
      expect(await failureOf(call(c.kv, c.kv.put, putReq('a'), hasleader))).to.deep.equal(E.noLeader)
      expect(await failureOf(call(c.cluster, c.cluster.memberList, {linearizable: false}, hasleader))).to.deep.equal(E.noLeader)
      expect((await failureOf(call(c.kv, c.kv.range, rangeReq('a'), {}, 1500))).code).to.equal('DEADLINE_EXCEEDED')
      expect((await call(c.kv, c.kv.range, rangeReq('a', {serializable: true}))).count).to.equal(0)
      expect(await watchFor(c.watch, watchCreate('a'), 1000, hasleader)).to.deep.equal({responses: [], error: E.noLeader})
      const w = await etcdctl(etcd.endpoints(), ['watch', 'a'], {timeoutMs: 10_000})
      expect(w).to.include({code: 5, stderr: `watch was canceled (${E.noLeader.details})\nError: watch is canceled by the server\n`})
      const st = await etcdctl(etcd.endpoints(), ['endpoint', 'status'])
      expect(st.code).to.equal(0)
      expect(st.stdout).to.match(/, false, false, \d+, \d+, \d+, etcdserver: no leader\n$/)
    } finally {
      c.close()
      await etcd.stop()
    }
  })

  it('with auth enabled: no user, a bad token, a bad password and a missing permission', async () => {
    const etcd = await startEtcd()
    const eps = etcd.endpoints()
    const c = etcdClients(eps[0])
    try {
      for (const a of [['role', 'add', 'root'], ['user', 'add', 'root', '--new-user-password', 'rootpw'], ['user', 'grant-role', 'root', 'root'],
        ['user', 'add', 'bob', '--new-user-password', 'pw'], ['auth', 'enable']]) expect((await etcdctl(eps, a)).code, a.join(' ')).to.equal(0)
      const {token} = await call(c.auth, c.auth.authenticate, {name: 'bob', password: 'pw'})
      expect(await failureOf(call(c.kv, c.kv.range, rangeReq('a'), {token}))).to.deep.equal(E.permissionDenied)
      expect(await failureOf(call(c.kv, c.kv.range, rangeReq('a')))).to.deep.equal(E.userEmpty)
      expect(await failureOf(call(c.kv, c.kv.range, rangeReq('a'), {token: 'bogus'}))).to.deep.equal(E.invalidAuthToken)
      expect(await failureOf(call(c.auth, c.auth.authenticate, {name: 'bob', password: 'nope'}))).to.deep.equal(E.authFailed)
      const denied = await etcdctl(eps, ['--user', 'bob:pw', 'get', 'a'])
      const wrong = await etcdctl(eps, ['--user', 'bob:nope', 'get', 'a'])
      expect([denied.code, lastLine(denied.stderr), wrong.code, lastLine(wrong.stderr)]).to.deep.equal(
        [1, `Error: ${E.permissionDenied.details}`, 2, `Error: ${E.authFailed.details}`])
    } finally {
      c.close()
      await etcd.stop()
    }
  })
})
