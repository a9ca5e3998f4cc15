/**
 * etcd's ways of naming the whole key space and "every key from here on", at the state machine:
 * key "\0" with range_end "\0" (what `kv get "" --prefix` and `--from-key` send), an all-0xff
 * prefix (its end is "\0"), and the refusal of an empty key, which says what to send instead.
 */
import {expect} from 'chai'
import type {Watcher} from '../../src/kv/index.js'
import {KvError, prefixEnd, watchKeyRange} from '../../src/kv/index.js'
import {TempDirs} from '../storage/helpers.js'
import {putReq, rangeReq, TestNode} from './helpers.js'

const u = (...bytes: number[]): Uint8Array => Uint8Array.of(...bytes)
const t = (text: string): Uint8Array => new TextEncoder().encode(text)
const hex = (k: Uint8Array): string => Buffer.from(k).toString('hex')
const ZERO = u(0)
const NONE = new Uint8Array(0)

describe('kv: the whole key space and from-key ranges (etcd\'s "\\0" idioms)', () => {
  const tmp = new TempDirs()
  let n: TestNode
  // Stored in byte order: "\0", "\0\0", "a", "b/1", 0xff, 0xff 0x00, 0xff 0xff.
  const KEYS = [u(0), u(0, 0), t('a'), t('b/1'), u(0xff), u(0xff, 0), u(0xff, 0xff)]

  beforeEach(async () => {
    n = await TestNode.create(tmp.make('raftctl-keyspace-'))
    for (const key of [...KEYS].reverse()) await n.request({put: {...putReq('', 'v'), key}})
  })
  afterEach(async () => {
    await n.close()
    tmp.cleanup()
  })

  const range = (key: Uint8Array, rangeEnd: Uint8Array) =>
    n.kv.range({...rangeReq(''), key, rangeEnd, keysOnly: true})

  it('reads every key, the 0x00 key included, with key "\\0" and range_end "\\0"', async () => {
    const r = await range(ZERO, ZERO)
    expect(r.kvs.map((kv) => hex(kv.key))).to.deep.equal(KEYS.map(hex))
    expect(r.count).to.equal(KEYS.length)
  })

  it('reads every key from a key on with range_end "\\0"', async () => {
    expect((await range(t('b'), ZERO)).kvs.map((kv) => hex(kv.key))).to.deep.equal(['622f31', 'ff', 'ff00', 'ffff'])
  })

  it('reads an all-0xff prefix to the end of the key space (its end is "\\0")', async () => {
    expect([...prefixEnd(u(0xff))]).to.deep.equal([0])
    expect((await range(u(0xff), prefixEnd(u(0xff)))).kvs.map((kv) => hex(kv.key))).to.deep.equal(['ff', 'ff00', 'ffff'])
    expect((await range(u(0xff, 0xff), prefixEnd(u(0xff, 0xff)))).kvs.map((kv) => hex(kv.key))).to.deep.equal(['ffff'])
  })

  it('deletes every key with key "\\0" and range_end "\\0", in a txn as well', async () => {
    const inTxn = await n.txn({success: [{requestDeleteRange: {key: u(0xff), rangeEnd: ZERO, prevKv: false}}]})
    expect(inTxn.txn!.responses[0].responseDeleteRange!.deleted).to.equal(3)
    const all = await n.request({deleteRange: {key: ZERO, rangeEnd: ZERO, prevKv: false}})
    expect(all.deleteRange!.deleted).to.equal(KEYS.length - 3)
    expect((await range(ZERO, ZERO)).count).to.equal(0)
  })

  it('watches every key with key "\\0" and range_end "\\0"', async () => {
    const w: Watcher = n.kv.hub.watch({range: watchKeyRange(ZERO, ZERO)!, startRevision: 2, prevKv: false, noPut: false, noDelete: false})
    const seen: string[] = []
    while (seen.length < KEYS.length) {
      const item = await w.next()
      if (item?.kind !== 'events') throw new Error(`the watch ended: ${JSON.stringify(item)}`)
      seen.push(...item.events.map((e) => hex(e.kv!.key)))
    }
    w.cancel()
    expect(seen).to.deep.equal([...KEYS].reverse().map(hex))
  })

  it('refuses an empty key and says how to name every key (a watch of the empty key is etcd\'s watch of "\\0": test/server/etcd_watch.test.ts)', async () => {
    const refused = async (f: () => unknown): Promise<KvError> => {
      try {
        await f()
      } catch (err) {
        return err as KvError
      }
      throw new Error('expected a refusal')
    }
    for (const [what, f] of [
      ['range', () => range(NONE, ZERO)],
    ] as const) {
      const err = await refused(f)
      expect(err, what).to.be.instanceOf(KvError).and.include({code: 'EMPTY_KEY'})
      expect(err.message).to.equal(`${what}: the key is empty; to name every key, send key "\\0" with range_end "\\0"`)
    }
    const del = await n.request({deleteRange: {key: NONE, rangeEnd: ZERO, prevKv: false}})
    expect(del.error?.message).to.equal('delete: the key is empty; to name every key, send key "\\0" with range_end "\\0"')
    expect((await range(ZERO, ZERO)).count, 'nothing was deleted').to.equal(KEYS.length)
  })
})
