/**
 * Property (fast-check, real RocksDB): after any sequence of grants, revokes, puts with and
 * without leases (ignore_lease included), deletes and txns, the attachments are exactly the live
 * keys' leases — every live key with lease L != 0 is attached to L, which exists, and every lease
 * holds exactly the live keys that name it — and a revoke leaves none of its keys. The same holds
 * after a reopen, and a second store fed the same entries ends with the same hashKV and records.
 */
import {expect} from 'chai'
import fc from 'fast-check'
import {TempDirs} from '../storage/helpers.js'
import {putReq, s, TestNode} from '../kv/helpers.js'
import {attachments, grant, leaseRecords, liveKeys, revoke} from './kv_node.js'

type Op =
  | {kind: 'grant', id: bigint}
  | {kind: 'revoke', id: bigint}
  | {kind: 'put', key: string, lease: bigint, ignoreLease: boolean}
  | {kind: 'del', key: string, range: boolean}
  | {kind: 'txn', keys: string[], lease: bigint}

const ID = fc.constantFrom(1n, 2n, 3n, -4n)
const KEY = fc.constantFrom('a', 'b', 'c', 'd/1', 'd/2')
const OP: fc.Arbitrary<Op> = fc.oneof(
  fc.record({kind: fc.constant('grant' as const), id: ID}),
  fc.record({kind: fc.constant('revoke' as const), id: ID}),
  fc.record({kind: fc.constant('put' as const), key: KEY, lease: fc.oneof(ID, fc.constant(0n)), ignoreLease: fc.boolean()}),
  fc.record({kind: fc.constant('del' as const), key: KEY, range: fc.boolean()}),
  fc.record({kind: fc.constant('txn' as const), keys: fc.uniqueArray(KEY, {maxLength: 3}), lease: fc.oneof(ID, fc.constant(0n))}),
)

async function run(n: TestNode, op: Op): Promise<void> {
  if (op.kind === 'grant') await grant(n, op.id, 30)
  else if (op.kind === 'revoke') {
    const keys = n.leases.keysOf(op.id).map(s)
    await revoke(n, op.id)
    const live = new Set((await liveKeys(n)).map(([k]) => k))
    expect(keys.filter((k) => live.has(k)), `keys of revoked lease ${op.id}`).to.deep.equal([])
  } else if (op.kind === 'put') {
    await n.put(op.key, 'v', false, op.ignoreLease ? {ignoreLease: true} : {lease: op.lease})
  } else if (op.kind === 'del') await n.del(op.key, op.range ? 'd0' : '')
  else await n.txn({success: op.keys.map((k) => ({requestPut: putReq(k, 't', false, {lease: op.lease})}))})
}

/** The attachments the live keys imply: {"<lease>": [keys]} for every existing lease. */
async function expected(n: TestNode): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {}
  for (const id of n.leases.ids()) out[String(id)] = []
  for (const [key, , lease] of await liveKeys(n)) {
    if (lease === 0n) continue
    expect(out[String(lease)], `key ${key} names lease ${lease}, which must exist`).to.not.equal(undefined)
    out[String(lease)].push(key)
  }
  return out
}

describe('lease: attachments always match the live keys (property)', function () {
  this.timeout(120_000)
  const tmp = new TempDirs()
  afterEach(() => tmp.cleanup())

  it('holds after every entry, after a reopen, and on a second store fed the same entries', async () => {
    await fc.assert(fc.asyncProperty(fc.array(OP, {minLength: 1, maxLength: 30}), async (ops) => {
      const n = await TestNode.create(tmp.make('raftctl-lease-prop-'))
      const m = await TestNode.create(tmp.make('raftctl-lease-prop-'))
      try {
        for (const op of ops) {
          await run(n, op)
          expect(attachments(n)).to.deep.equal(await expected(n))
        }
        for (const e of n.rs.entries(n.rs.firstIndex(), n.rs.lastIndex() + 1)) {
          if (e.index > m.rs.lastIndex()) await m.applyData(e.data)
        }
        await n.reopen()
        expect(attachments(n)).to.deep.equal(await expected(n))
        expect(await m.kv.hashKV()).to.deep.equal(await n.kv.hashKV())
        expect(await leaseRecords(m)).to.deep.equal(await leaseRecords(n))
      } finally {
        await n.close()
        await m.close()
      }
    }), {numRuns: 40})
  })
})

