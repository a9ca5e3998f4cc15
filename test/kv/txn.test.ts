import {expect} from 'chai'
import {
  type Compare, Compare_CompareResult as R, Compare_CompareTarget as T,
} from '../../src/generated/raftctl/v1/kv.js'
import {compareKv, validateTxn} from '../../src/kv/index.js'
import {TempDirs} from '../storage/helpers.js'
import {b, delOp, putOp, rangeOp, s, TestNode} from './helpers.js'

const cmp = (key: string, target: T, result: R, union: Partial<Compare>, rangeEnd = ''): Compare =>
  ({key: b(key), rangeEnd: b(rangeEnd), target, result, ...union})

describe('kv/txn', () => {
  const tmp = new TempDirs()
  let n: TestNode
  beforeEach(async () => {
    n = await TestNode.create(tmp.make('raftctl-txn-'))
    await n.put('k', 'm')   // rev 1: k create 1, mod 1, version 1
    await n.put('x', 'x')   // rev 2
    await n.put('k', 'm')   // rev 3: k create 1, mod 3, version 2
  })
  afterEach(async () => {
    await n.close()
    tmp.cleanup()
  })

  const holds = async (c: Compare): Promise<boolean> => (await n.txn({compare: [c]})).txn!.succeeded

  it('compares every target with every result on an existing key', async () => {
    const cases: Array<[T, Partial<Compare>, Record<R, boolean> | null]> = [
      // target, operand, expected per result [EQUAL, GREATER, LESS, NOT_EQUAL]
      [T.VERSION, {version: 2}, {[R.EQUAL]: true, [R.GREATER]: false, [R.LESS]: false, [R.NOT_EQUAL]: false} as Record<R, boolean>],
      [T.VERSION, {version: 1}, {[R.EQUAL]: false, [R.GREATER]: true, [R.LESS]: false, [R.NOT_EQUAL]: true} as Record<R, boolean>],
      [T.VERSION, {version: 3}, {[R.EQUAL]: false, [R.GREATER]: false, [R.LESS]: true, [R.NOT_EQUAL]: true} as Record<R, boolean>],
      [T.CREATE, {createRevision: 1}, {[R.EQUAL]: true, [R.GREATER]: false, [R.LESS]: false, [R.NOT_EQUAL]: false} as Record<R, boolean>],
      [T.CREATE, {createRevision: 2}, {[R.EQUAL]: false, [R.GREATER]: false, [R.LESS]: true, [R.NOT_EQUAL]: true} as Record<R, boolean>],
      [T.MOD, {modRevision: 3}, {[R.EQUAL]: true, [R.GREATER]: false, [R.LESS]: false, [R.NOT_EQUAL]: false} as Record<R, boolean>],
      [T.MOD, {modRevision: 2}, {[R.EQUAL]: false, [R.GREATER]: true, [R.LESS]: false, [R.NOT_EQUAL]: true} as Record<R, boolean>],
      [T.VALUE, {value: b('m')}, {[R.EQUAL]: true, [R.GREATER]: false, [R.LESS]: false, [R.NOT_EQUAL]: false} as Record<R, boolean>],
      [T.VALUE, {value: b('a')}, {[R.EQUAL]: false, [R.GREATER]: true, [R.LESS]: false, [R.NOT_EQUAL]: true} as Record<R, boolean>],
      [T.VALUE, {value: b('mm')}, {[R.EQUAL]: false, [R.GREATER]: false, [R.LESS]: true, [R.NOT_EQUAL]: true} as Record<R, boolean>],
    ]
    for (const [target, union, expected] of cases) {
      for (const result of [R.EQUAL, R.GREATER, R.LESS, R.NOT_EQUAL]) {
        expect(await holds(cmp('k', target, result, union)), `${T[target]} ${R[result]} ${JSON.stringify(union)}`)
          .to.equal(expected![result])
      }
    }
    expect(await holds(cmp('k', T.EXISTS, R.EQUAL, {exists: true}))).to.equal(true)
    expect(await holds(cmp('k', T.EXISTS, R.NOT_EQUAL, {exists: true}))).to.equal(false)
    expect(await holds(cmp('k', T.EXISTS, R.EQUAL, {exists: false}))).to.equal(false)
  })

  it('compares a missing key as version/create/mod 0, not existing, and never equal in value', async () => {
    expect(await holds(cmp('nope', T.VERSION, R.EQUAL, {version: 0}))).to.equal(true)
    expect(await holds(cmp('nope', T.CREATE, R.EQUAL, {createRevision: 0}))).to.equal(true)
    expect(await holds(cmp('nope', T.MOD, R.LESS, {modRevision: 1}))).to.equal(true)
    expect(await holds(cmp('nope', T.EXISTS, R.EQUAL, {exists: false}))).to.equal(true)
    expect(await holds(cmp('nope', T.VALUE, R.EQUAL, {value: new Uint8Array(0)}))).to.equal(false)
    expect(await holds(cmp('nope', T.VALUE, R.NOT_EQUAL, {value: b('z')}))).to.equal(false)
  })

  it('requires a range compare to hold for every key in the range', async () => {
    expect(await holds(cmp('a', T.VERSION, R.GREATER, {version: 0}, 'z'))).to.equal(true) // k (2) and x (1)
    expect(await holds(cmp('a', T.VERSION, R.EQUAL, {version: 2}, 'z'))).to.equal(false)
    expect(await holds(cmp('a', T.MOD, R.LESS, {modRevision: 4}, '\0'))).to.equal(true)
    expect(await holds(cmp('l', T.EXISTS, R.EQUAL, {exists: false}, 'w'))).to.equal(true) // empty range
  })

  it('runs success or failure ops; all writes share one revision; later ops see earlier writes', async () => {
    const ok = await n.txn({
      compare: [cmp('k', T.VALUE, R.EQUAL, {value: b('m')})],
      success: [putOp('p', '1'), putOp('q', '2'), rangeOp('p', 'r'), delOp('x')],
      failure: [putOp('fail', '1')],
    })
    expect(ok.txn!.succeeded).to.equal(true)
    expect(ok.revision).to.equal(4)
    expect(ok.txn!.header!.revision).to.equal(4)
    const read = ok.txn!.responses[2].responseRange!
    expect(read.kvs.map((kv) => s(kv.key))).to.deep.equal(['p', 'q'])
    expect(read.kvs[0].modRevision).to.equal(4)
    expect(ok.txn!.responses[3].responseDeleteRange!.deleted).to.equal(1)
    expect((await n.get('p'))!.modRevision).to.equal(4)
    expect((await n.get('q'))!.modRevision).to.equal(4)
    expect(await n.get('fail')).to.equal(undefined)
    expect(n.kv.keyCount).to.equal(3)

    const no = await n.txn({
      compare: [cmp('k', T.VERSION, R.EQUAL, {version: 99})],
      success: [putOp('s', '1')], failure: [putOp('f', '1', true)],
    })
    expect(no.txn!.succeeded).to.equal(false)
    expect(no.revision).to.equal(5)
    expect(await n.get('f')).to.not.equal(undefined)
    expect(await n.get('s')).to.equal(undefined)
  })

  it('supports compare-and-swap and nested txns', async () => {
    const cas = (expected: string, next: string) => n.txn({
      compare: [cmp('k', T.VALUE, R.EQUAL, {value: b(expected)})], success: [putOp('k', next)],
    })
    expect((await cas('m', 'n')).txn!.succeeded).to.equal(true)
    expect((await cas('m', 'o')).txn!.succeeded).to.equal(false)
    expect(s((await n.get('k'))!.value)).to.equal('n')
    const nested = await n.txn({success: [putOp('a', '1'), {requestTxn: {
      compare: [cmp('a', T.EXISTS, R.EQUAL, {exists: true})], success: [putOp('b', '1')], failure: [],
    }}]})
    expect(nested.txn!.responses[1].responseTxn!.succeeded).to.equal(true)
    expect((await n.get('b'))!.modRevision).to.equal(nested.revision)
  })

  it('refuses invalid txns as no-ops with a clear error', async () => {
    const rev = n.kv.revision
    const dup = await n.txn({success: [putOp('a', '1'), putOp('a', '2')]})
    expect(dup.error!.message).to.match(/writes key "a" more than once/)
    const overlap = await n.txn({success: [delOp('a', 'c'), putOp('b', '2')]})
    expect(overlap.error!.message).to.match(/inside a range it also deletes/)
    const noUnion = await n.txn({compare: [cmp('k', T.VERSION, R.EQUAL, {})]})
    expect(noUnion.error!.message).to.match(/needs target_union.version/)
    const wrongUnion = await n.txn({compare: [cmp('k', T.VERSION, R.EQUAL, {version: 1, value: b('x')})]})
    expect(wrongUnion.error!.message).to.match(/must not set value/)
    const exists = await n.txn({compare: [cmp('k', T.EXISTS, R.GREATER, {exists: true})]})
    expect(exists.error!.message).to.match(/only EQUAL and NOT_EQUAL/)
    const staleRead = await n.txn({success: [{requestRange: {...rangeOp('k').requestRange, revision: 1}}]})
    expect(staleRead.error).to.have.property('code', 'COMPACTED')
    expect(n.kv.revision).to.equal(rev)
    expect(() => validateTxn({compare: [], success: [putOp('a', '1')], failure: [putOp('a', '1')]})).to.not.throw()
  })

  it('compareKv follows etcd for a missing key', () => {
    expect(compareKv(cmp('a', T.VERSION, R.LESS, {version: 1}), undefined)).to.equal(true)
    expect(compareKv(cmp('a', T.CREATE, R.GREATER, {createRevision: 0}), undefined)).to.equal(false)
  })
})
