import {expect} from 'chai'
import {
  type Compare, Compare_CompareResult as R, Compare_CompareTarget as T, type RequestOp, type TxnRequest,
} from '../../src/generated/etcd/etcdserverpb/kv.js'
import {compareKv, DEFAULT_MAX_TXN_OPS, validateTxn} from '../../src/kv/index.js'
import {historyKey} from '../../src/storage/keys.js'
import {TempDirs} from '../storage/helpers.js'
import {b, delOp, putOp, putReq, rangeOp, s, TestNode} from './helpers.js'

const cmp = (key: string, target: T, result: R, union: Partial<Compare>, rangeEnd = ''): Compare =>
  ({key: b(key), rangeEnd: b(rangeEnd), target, result, ...union})

describe('kv/txn', () => {
  const tmp = new TempDirs()
  let n: TestNode
  beforeEach(async () => {
    n = await TestNode.create(tmp.make('raftctl-txn-'))
    await n.put('k', 'm')   // rev 2: k create 2, mod 2, version 1
    await n.put('x', 'x')   // rev 3
    await n.put('k', 'm')   // rev 4: k create 2, mod 4, version 2
  })
  afterEach(async () => {
    await n.close()
    tmp.cleanup()
  })

  const holds = async (c: Compare): Promise<boolean> => (await n.txn({compare: [c]})).txn!.succeeded

  it('compares every target with every result on an existing key', async () => {
    const cases: Array<[T, Partial<Compare>, Record<R, boolean> | null]> = [
      // target, operand, expected per result [EQUAL, GREATER, LESS, NOT_EQUAL]
      [T.VERSION, {version: 2n}, {[R.EQUAL]: true, [R.GREATER]: false, [R.LESS]: false, [R.NOT_EQUAL]: false} as Record<R, boolean>],
      [T.VERSION, {version: 1n}, {[R.EQUAL]: false, [R.GREATER]: true, [R.LESS]: false, [R.NOT_EQUAL]: true} as Record<R, boolean>],
      [T.VERSION, {version: 3n}, {[R.EQUAL]: false, [R.GREATER]: false, [R.LESS]: true, [R.NOT_EQUAL]: true} as Record<R, boolean>],
      [T.CREATE, {createRevision: 2n}, {[R.EQUAL]: true, [R.GREATER]: false, [R.LESS]: false, [R.NOT_EQUAL]: false} as Record<R, boolean>],
      [T.CREATE, {createRevision: 3n}, {[R.EQUAL]: false, [R.GREATER]: false, [R.LESS]: true, [R.NOT_EQUAL]: true} as Record<R, boolean>],
      [T.MOD, {modRevision: 4n}, {[R.EQUAL]: true, [R.GREATER]: false, [R.LESS]: false, [R.NOT_EQUAL]: false} as Record<R, boolean>],
      [T.MOD, {modRevision: 3n}, {[R.EQUAL]: false, [R.GREATER]: true, [R.LESS]: false, [R.NOT_EQUAL]: true} as Record<R, boolean>],
      [T.LEASE, {lease: 0n}, {[R.EQUAL]: true, [R.GREATER]: false, [R.LESS]: false, [R.NOT_EQUAL]: false} as Record<R, boolean>],
      [T.LEASE, {lease: 7n}, {[R.EQUAL]: false, [R.GREATER]: false, [R.LESS]: true, [R.NOT_EQUAL]: true} as Record<R, boolean>],
      [T.VALUE, {value: b('m')}, {[R.EQUAL]: true, [R.GREATER]: false, [R.LESS]: false, [R.NOT_EQUAL]: false} as Record<R, boolean>],
      [T.VALUE, {value: b('a')}, {[R.EQUAL]: false, [R.GREATER]: true, [R.LESS]: false, [R.NOT_EQUAL]: true} as Record<R, boolean>],
      [T.VALUE, {value: b('mm')}, {[R.EQUAL]: false, [R.GREATER]: false, [R.LESS]: true, [R.NOT_EQUAL]: true} as Record<R, boolean>],
    ]
    for (const [target, union, expected] of cases) {
      for (const result of [R.EQUAL, R.GREATER, R.LESS, R.NOT_EQUAL]) {
        expect(await holds(cmp('k', target, result, union)), `${T[target]} ${R[result]} ${JSON.stringify(union, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`)
          .to.equal(expected![result])
      }
    }
    // A compare whose target_union is unset (or set for another target) compares with 0 / empty, as etcd.
    expect(await holds(cmp('k', T.VERSION, R.GREATER, {}))).to.equal(true)
    expect(await holds(cmp('k', T.VERSION, R.GREATER, {value: b('x')}))).to.equal(true)
  })

  it('compares a missing key as version/create/mod/lease 0 and never equal in value', async () => {
    expect(await holds(cmp('nope', T.VERSION, R.EQUAL, {version: 0n}))).to.equal(true)
    expect(await holds(cmp('nope', T.CREATE, R.EQUAL, {createRevision: 0n}))).to.equal(true)
    expect(await holds(cmp('nope', T.MOD, R.LESS, {modRevision: 1n}))).to.equal(true)
    expect(await holds(cmp('nope', T.LEASE, R.EQUAL, {lease: 0n}))).to.equal(true)
    expect(await holds(cmp('nope', T.VALUE, R.EQUAL, {value: new Uint8Array(0)}))).to.equal(false)
    expect(await holds(cmp('nope', T.VALUE, R.NOT_EQUAL, {value: b('z')}))).to.equal(false)
  })

  it('requires a range compare to hold for every key in the range (etcd 3.4)', async () => {
    expect(await holds(cmp('a', T.VERSION, R.GREATER, {version: 0n}, 'z'))).to.equal(true) // k (2) and x (1)
    expect(await holds(cmp('a', T.VERSION, R.EQUAL, {version: 2n}, 'z'))).to.equal(false)
    expect(await holds(cmp('a', T.MOD, R.LESS, {modRevision: 5n}, '\0'))).to.equal(true)
    expect(await holds(cmp('l', T.VERSION, R.EQUAL, {version: 0n}, 'w'))).to.equal(true) // empty range: one missing key
    expect(await holds(cmp('l', T.VALUE, R.NOT_EQUAL, {value: b('q')}, 'w'))).to.equal(false)
  })

  it('runs success or failure ops; all writes share one revision; later ops see earlier writes', async () => {
    const ok = await n.txn({
      compare: [cmp('k', T.VALUE, R.EQUAL, {value: b('m')})],
      success: [putOp('p', '1'), putOp('q', '2'), rangeOp('p', 'r'), delOp('x')],
      failure: [putOp('fail', '1')],
    })
    expect(ok.txn!.succeeded).to.equal(true)
    expect(ok.revision).to.equal(5)
    expect(ok.txn!.header!.revision).to.equal(5)
    const read = ok.txn!.responses[2].responseRange!
    expect(read.kvs.map((kv) => s(kv.key))).to.deep.equal(['p', 'q'])
    expect(read.kvs[0].modRevision).to.equal(5)
    expect(ok.txn!.responses[3].responseDeleteRange!.deleted).to.equal(1)
    expect((await n.get('p'))!.modRevision).to.equal(5)
    expect((await n.get('q'))!.modRevision).to.equal(5)
    // One main revision, sub revisions 0, 1, 2 in op order: the history index says so.
    const subs = [['p', 0], ['q', 1], ['x', 2]] as const
    for (const [key, sub] of subs) expect(await n.rs.db.get(historyKey(b(key), {main: 5, sub})), `${key} at 5.${sub}`).to.not.equal(undefined)
    const events = []
    for await (const r of n.kv.history(5, 5)) events.push(...r.events.map((e) => `${e.type}:${s(e.kv!.key)}`))
    expect(events).to.deep.equal(['0:p', '0:q', '1:x'])
    expect(await n.get('fail')).to.equal(undefined)
    expect(n.kv.keyCount).to.equal(3)

    const no = await n.txn({
      compare: [cmp('k', T.VERSION, R.EQUAL, {version: 99n})],
      success: [putOp('s', '1')], failure: [putOp('f', '1', true)],
    })
    expect(no.txn!.succeeded).to.equal(false)
    expect(no.revision).to.equal(6)
    expect(await n.get('f')).to.not.equal(undefined)
    expect(await n.get('s')).to.equal(undefined)
  })

  it('supports compare-and-swap, and nested txns whose compares see the state before the txn (etcd 3.4)', async () => {
    const cas = (expected: string, next: string) => n.txn({
      compare: [cmp('k', T.VALUE, R.EQUAL, {value: b(expected)})], success: [putOp('k', next)],
    })
    expect((await cas('m', 'n')).txn!.succeeded).to.equal(true)
    expect((await cas('m', 'o')).txn!.succeeded).to.equal(false)
    expect(s((await n.get('k'))!.value)).to.equal('n')
    const nested = await n.txn({success: [putOp('a', '1'), {requestTxn: {
      compare: [cmp('a', T.VERSION, R.GREATER, {version: 0n})], success: [putOp('b', '1')], failure: [putOp('c', '1')],
    }}]})
    const inner = nested.txn!.responses[1].responseTxn!
    expect(inner.succeeded, 'the nested compare ran before the put of a').to.equal(false)
    expect(inner.header!.revision, 'a nested txn answers with an empty header, as etcd').to.equal(0)
    expect(await n.get('b')).to.equal(undefined)
    expect((await n.get('c'))!.modRevision).to.equal(nested.revision)
  })

  it('answers each op with its own revision: reads before the first write see the old one', async () => {
    const t = (await n.txn({success: [rangeOp('k'), putOp('h', '1'), delOp('none'), rangeOp('h')]})).txn!
    const revs = t.responses.map((r) => (r.responseRange ?? r.responsePut ?? r.responseDeleteRange)!.header!.revision)
    expect(revs).to.deep.equal([4, 5, 5, 5])
    const inTxn = (await n.txn({success: [putOp('i', '1'), rangeOp('k', '', {revision: 3})]})).txn!
    expect(inTxn.responses[1].responseRange!.kvs[0].modRevision, 'a range at an older revision inside a write txn').to.equal(2)
  })

  it('checks the chosen ops before running any: ignore_value / ignore_lease need the key, leases must exist', async () => {
    const rev = n.kv.revision
    const missing = await n.txn({success: [putOp('new', '1'), {requestPut: putReq('gone', '', false, {ignoreValue: true})}]})
    expect(missing.error).to.have.property('code', 'KEY_NOT_FOUND')
    const lease = await n.txn({success: [putOp('new', '1'), {requestPut: putReq('l', 'v', false, {lease: 9n})}]})
    expect(lease.error).to.have.property('code', 'LEASE_NOT_FOUND')
    const future = await n.txn({success: [putOp('new', '1'), rangeOp('k', '', {revision: rev + 1})]})
    expect(future.error, 'a read at the revision the txn creates is future for etcd too').to.have.property('code', 'FUTURE_REVISION')
    expect(n.kv.revision).to.equal(rev)
    expect(await n.get('new')).to.equal(undefined)
    const unchosen = await n.txn({compare: [cmp('k', T.VERSION, R.EQUAL, {version: 9n})], success: [{requestPut: putReq('gone', '', false, {ignoreValue: true})}]})
    expect(unchosen.txn!.succeeded, 'ops of the branch not taken are not checked').to.equal(false)
    const keep = await n.txn({success: [{requestPut: putReq('k', '', true, {ignoreValue: true})}]})
    expect(s((await n.get('k'))!.value), 'ignore_value keeps the value').to.equal('m')
    expect(keep.txn!.responses[0].responsePut!.prevKv!.version).to.equal(2)
  })

  it('refuses invalid txns as no-ops with etcd\'s error codes', async () => {
    const rev = n.kv.revision
    const dup = await n.txn({success: [putOp('a', '1'), putOp('a', '2')]})
    expect(dup.error).to.have.property('code', 'DUPLICATE_KEY')
    expect(dup.error!.message).to.match(/key "a" more than once/)
    expect((await n.txn({success: [delOp('a', 'c'), putOp('b', '2')]})).error).to.have.property('code', 'DUPLICATE_KEY')
    const nestedDup = {success: [putOp('d', '1'), {requestTxn: {compare: [], success: [putOp('d', '2')], failure: []}}]}
    expect((await n.txn(nestedDup)).error).to.have.property('code', 'DUPLICATE_KEY')
    expect((await n.txn({success: [{}]})).error, 'an op without a request: etcd says key not found').to.have.property('code', 'KEY_NOT_FOUND')
    expect((await n.txn({compare: [cmp('', T.VERSION, R.EQUAL, {})]})).error).to.have.property('code', 'EMPTY_KEY')
    expect((await n.txn({success: [{requestPut: putReq('v', 'x', false, {ignoreValue: true})}]})).error).to.have.property('code', 'VALUE_PROVIDED')
    expect((await n.txn({success: [{requestPut: putReq('v', '', false, {ignoreLease: true, lease: 3n})}]})).error).to.have.property('code', 'LEASE_PROVIDED')
    const staleRead = await n.txn({success: [rangeOp('k', '', {revision: rev + 5})]})
    expect(staleRead.error).to.have.property('code', 'FUTURE_REVISION')
    expect(n.kv.revision).to.equal(rev)
  })

  it('validates like etcd\'s Txn handler: op counts per branch, duplicates per branch, etcd 3.4\'s literal delete intervals', () => {
    const ops = (k: number, prefix = 'k'): RequestOp[] => Array.from({length: k}, (_, i) => putOp(`${prefix}${i}`, 'v'))
    const txn = (t: Partial<TxnRequest>): TxnRequest => ({compare: [], success: [], failure: [], ...t})
    expect(() => validateTxn(txn({success: ops(DEFAULT_MAX_TXN_OPS), failure: ops(DEFAULT_MAX_TXN_OPS)}), DEFAULT_MAX_TXN_OPS)).to.not.throw()
    expect(() => validateTxn(txn({success: ops(DEFAULT_MAX_TXN_OPS + 1)}), DEFAULT_MAX_TXN_OPS)).to.throw().with.property('code', 'TOO_MANY_OPS')
    expect(() => validateTxn(txn({success: ops(DEFAULT_MAX_TXN_OPS + 1)})), 'apply passes no limit').to.not.throw()
    // A nested txn gets the budget left after its parent's widest list.
    const nested = txn({success: [...ops(3), {requestTxn: txn({success: ops(2, 'n')})}]})
    expect(() => validateTxn(nested, 5)).to.throw().with.property('code', 'TOO_MANY_OPS')
    expect(() => validateTxn(nested, 6)).to.not.throw()
    expect(() => validateTxn(txn({success: [putOp('a', '1')], failure: [putOp('a', '1')]}))).to.not.throw()
    const branches = txn({success: [{requestTxn: txn({success: [putOp('d', '1')], failure: [putOp('d', '2')]})}]})
    expect(() => validateTxn(branches), 'both branches of a nested txn may put one key').to.not.throw()
    // etcd 3.4 checks a delete's [key, range_end) literally: "\0" and an end below the key cover nothing there.
    expect(() => validateTxn(txn({success: [delOp('x', '\0'), putOp('y', '1')]}))).to.not.throw()
    expect(() => validateTxn(txn({success: [delOp('z', 'a'), putOp('zz', '1')]}))).to.not.throw()
    expect(() => validateTxn(txn({success: [delOp('p', 'r'), putOp('q', '1')]}))).to.throw().with.property('code', 'DUPLICATE_KEY')
  })

  it('compareKv follows etcd for a missing key', () => {
    expect(compareKv(cmp('a', T.VERSION, R.LESS, {version: 1n}), undefined)).to.equal(true)
    expect(compareKv(cmp('a', T.CREATE, R.GREATER, {createRevision: 0n}), undefined)).to.equal(false)
  })
})
