import {expect} from 'chai'
import {LeaseSnapshotItem} from '../../src/generated/raftctl/v1/lease_internal.js'
import {SnapshotFileError} from '../../src/kv/errors.js'
import type {LeaseHooks} from '../../src/kv/lease_hooks.js'
import {attachmentKey, LeaseError, leaseKey, LeaseStore, MAX_LEASE_TTL} from '../../src/lease/index.js'
import {OpList, StorageCorruptError} from '../../src/storage/index.js'
import {rejects, TempDirs} from '../storage/helpers.js'
import {b, LeaseNode, s, type LeaseOp} from './helpers.js'

const codeOf = (o: {error?: LeaseError}): string | undefined => o.error?.code

describe('lease/LeaseStore (real RocksDB)', () => {
  const tmp = new TempDirs()
  let n: LeaseNode
  beforeEach(async () => {
    n = await LeaseNode.create(tmp.make('raftctl-lease-'))
  })
  afterEach(async () => {
    await n.close()
    tmp.cleanup()
  })

  it('implements the hooks the key/value store calls', () => {
    const hooks: LeaseHooks = n.leases
    expect(hooks.count).to.equal(0)
  })

  describe('grant', () => {
    it('creates a lease with its TTL and no checkpoint, persisted across a reopen', async () => {
      const o = await n.apply({grant: {ID: 77n, TTL: 30}})
      expect(o.result).to.deep.equal({ID: 77n, TTL: 30})
      expect(o.changes).to.deep.equal({granted: [77n], revoked: [], checkpointed: []})
      expect(n.leases.get(77n)).to.deep.equal({id: 77n, ttl: 30, remainingTtl: 0, grantedIndex: o.index})
      await n.reopen()
      expect(n.leases.get(77n)).to.deep.equal({id: 77n, ttl: 30, remainingTtl: 0, grantedIndex: o.index})
      expect(n.leases.count).to.equal(1)
      expect(n.rs.applied.index).to.equal(o.index)
    })

    it('refuses an existing id with LEASE_EXISTS and applies the entry as a no-op', async () => {
      await n.apply({grant: {ID: 77n, TTL: 30}})
      const before = await n.dump()
      const o = await n.apply({grant: {ID: 77n, TTL: 60}})
      expect(codeOf(o)).to.equal('LEASE_EXISTS')
      expect(o.error!.message).to.equal('lease 4d already exists; grant with another id, or with id 0 to let the server choose one')
      expect(n.rs.applied.index).to.equal(o.index)
      expect(await n.dump()).to.deep.equal(before)
      expect(n.leases.get(77n)!.ttl).to.equal(30)
    })

    it('refuses id 0, a TTL that is not positive and a TTL above etcd\'s maximum', async () => {
      expect(codeOf(await n.apply({grant: {ID: 0n, TTL: 30}}))).to.equal('LEASE_NOT_FOUND')
      expect(codeOf(await n.apply({grant: {ID: 1n, TTL: 0}}))).to.equal('LEASE_TTL_NOT_POSITIVE')
      expect(codeOf(await n.apply({grant: {ID: 1n, TTL: -5}}))).to.equal('LEASE_TTL_NOT_POSITIVE')
      expect(codeOf(await n.apply({grant: {ID: 1n, TTL: MAX_LEASE_TTL + 1}}))).to.equal('LEASE_TTL_TOO_LARGE')
      expect((await n.apply({grant: {ID: 1n, TTL: MAX_LEASE_TTL}})).error).to.equal(undefined)
      expect(n.leases.count).to.equal(1)
    })

    it('keeps any int64 id exactly, negative ones included, and lists ids in ascending order', async () => {
      const ids = [9223372036854775807n, -5n, 1n, -9223372036854775808n, 4111120416083490317n]
      for (const ID of ids) await n.apply({grant: {ID, TTL: 10}})
      await n.reopen()
      expect(n.leases.ids()).to.deep.equal([...ids].sort((x, y) => (x < y ? -1 : 1)))
    })
  })

  describe('attached keys', () => {
    it('attaches and detaches keys, lists them in byte order, and keeps them across a reopen', async () => {
      await n.apply({grant: {ID: 1n, TTL: 10}})
      await n.apply({grant: {ID: 2n, TTL: 10}})
      for (const k of ['b', 'a', 'c\u0000', 'c']) await n.apply({attach: [1n, k]})
      await n.apply({detach: [1n, 'b']})
      expect(n.leases.keysOf(1n).map(s)).to.deep.equal(['a', 'c', 'c\u0000'])
      await n.apply({move: {key: 'a', from: 1n, to: 2n}})
      await n.reopen()
      expect(n.leases.keysOf(1n).map(s)).to.deep.equal(['c', 'c\u0000'])
      expect(n.leases.keysOf(2n).map(s)).to.deep.equal(['a'])
      expect(n.leases.keysOf(3n)).to.deep.equal([])
    })

    it('refuses a key for a lease that does not exist, changing nothing', async () => {
      const o = await n.apply({attach: [9n, 'k']})
      expect(codeOf(o)).to.equal('LEASE_NOT_FOUND')
      expect(await n.dump()).to.deep.equal([])
    })

    it('writes only the net change of one entry: attaching and detaching a key in it writes nothing', async () => {
      await n.apply({grant: {ID: 1n, TTL: 10}})
      const batch = n.leases.begin(n.rs.applied.index + 1)
      batch.attach(1n, b('k'))
      batch.detach(1n, b('k'))
      expect(batch.ops()).to.deep.equal([])
      const moved = n.leases.begin(n.rs.applied.index + 1)
      moved.attach(1n, b('k'))
      expect(moved.ops()).to.deep.equal([{type: 'put', key: attachmentKey(1n, b('k')), value: new Uint8Array(0)}])
    })
  })

  describe('revoke', () => {
    it('returns the attached keys in byte order and deletes the lease with them', async () => {
      await n.apply({grant: {ID: 1n, TTL: 10}})
      await n.apply({grant: {ID: 2n, TTL: 10}})
      for (const k of ['z', 'a', 'm']) await n.apply({attach: [1n, k]})
      await n.apply({attach: [2n, 'other']})
      const kept = (await n.dump()).filter((r) => r.startsWith(Buffer.from(leaseKey(2n)).toString('hex')))
      const o = await n.apply({revoke: 1n})
      expect(o.result).to.deep.equal(['a', 'm', 'z'])
      expect(o.changes!.revoked).to.deep.equal([1n])
      expect(n.leases.exists(1n)).to.equal(false)
      expect(await n.dump()).to.deep.equal(kept)
      await n.reopen()
      expect(n.leases.ids()).to.deep.equal([2n])
    })

    it('revokes an expired lease only if it is the grant the leader found expired', async () => {
      const first = (await n.apply({grant: {ID: 1n, TTL: 10}})).index
      await n.apply({revoke: 1n})
      await n.apply({grant: {ID: 1n, TTL: 10}})
      await n.apply({attach: [1n, 'k']})
      const stale = await n.apply({revoke: 1n, grantedIndex: first})
      expect(codeOf(stale)).to.equal('LEASE_NOT_FOUND')
      expect(n.leases.keysOf(1n).map(s)).to.deep.equal(['k'])
      const current = n.leases.get(1n)!.grantedIndex
      expect((await n.apply({revoke: 1n, grantedIndex: current})).result).to.deep.equal(['k'])
    })

    it('refuses an unknown lease and id 0 with LEASE_NOT_FOUND', async () => {
      expect(codeOf(await n.apply({revoke: 5n}))).to.equal('LEASE_NOT_FOUND')
      expect(codeOf(await n.apply({revoke: 0n}))).to.equal('LEASE_NOT_FOUND')
      await n.apply({grant: {ID: 5n, TTL: 10}})
      await n.apply({revoke: 5n})
      expect(codeOf(await n.apply({revoke: 5n}))).to.equal('LEASE_NOT_FOUND')
    })
  })

  describe('checkpoint', () => {
    it('records remaining TTLs, skips leases that are gone, and 0 clears a checkpoint', async () => {
      const g = (await n.apply({grant: {ID: 1n, TTL: 600}})).index
      const o = await n.apply({checkpoint: [{ID: 1n, remainingTTL: 280, grantedIndex: g}, {ID: 404n, remainingTTL: 5, grantedIndex: g}]})
      expect(o.changes!.checkpointed).to.deep.equal([1n])
      await n.reopen()
      expect(n.leases.get(1n)).to.deep.equal({id: 1n, ttl: 600, remainingTtl: 280, grantedIndex: g})
      await n.apply({checkpoint: [{ID: 1n, remainingTTL: 0, grantedIndex: g}]})
      expect(n.leases.get(1n)!.remainingTtl).to.equal(0)
    })

    it('skips a checkpoint taken for an earlier lease with the same id', async () => {
      const first = (await n.apply({grant: {ID: 1n, TTL: 600}})).index
      await n.apply({revoke: 1n})
      const second = (await n.apply({grant: {ID: 1n, TTL: 600}})).index
      const o = await n.apply({checkpoint: [{ID: 1n, remainingTTL: 3, grantedIndex: first}]})
      expect(o.changes!.checkpointed).to.deep.equal([])
      expect(n.leases.get(1n)).to.deep.equal({id: 1n, ttl: 600, remainingTtl: 0, grantedIndex: second})
    })

    it('refuses a negative remaining TTL and applies none of the entry\'s checkpoints', async () => {
      const g1 = (await n.apply({grant: {ID: 1n, TTL: 600}})).index
      const g2 = (await n.apply({grant: {ID: 2n, TTL: 600}})).index
      const o = await n.apply({checkpoint: [{ID: 1n, remainingTTL: 100, grantedIndex: g1}, {ID: 2n, remainingTTL: -1, grantedIndex: g2}]})
      expect(codeOf(o)).to.equal('LEASE_INVALID_REQUEST')
      expect(n.leases.get(1n)!.remainingTtl).to.equal(0)
    })
  })

  describe('replay and determinism', () => {
    const ops: LeaseOp[] = [
      {grant: {ID: 1n, TTL: 10}}, {grant: {ID: -2n, TTL: 700}}, {attach: [1n, 'a']}, {attach: [-2n, 'b']},
      {checkpoint: [{ID: -2n, remainingTTL: 300, grantedIndex: 2}]}, {grant: {ID: 1n, TTL: 5}}, {move: {key: 'a', from: 1n, to: -2n}},
      {attach: [1n, 'c']}, {revoke: 1n}, {revoke: 1n}, {grant: {ID: 3n, TTL: 20}},
    ]

    it('skips every entry at or below the applied index, before and after a reopen', async () => {
      for (const op of ops) await n.apply(op)
      const state = await n.dump()
      const replayed = await n.replayLog()
      expect(replayed.map((o) => o.applied)).to.deep.equal(ops.map(() => false))
      expect(await n.dump()).to.deep.equal(state)
      await n.reopen()
      expect((await n.replayLog()).every((o) => !o.applied)).to.equal(true)
      expect(await n.dump()).to.deep.equal(state)
      expect(n.leases.ids()).to.deep.equal([-2n, 3n])
      expect(n.leases.keysOf(-2n).map(s)).to.deep.equal(['a', 'b'])
    })

    it('gives every replica the same records whatever restarts happen in between', async () => {
      const other = await LeaseNode.create(tmp.make('raftctl-lease-'))
      try {
        for (const [i, op] of ops.entries()) {
          await n.apply(op)
          await other.apply(op)
          if (i % 4 === 3) await other.reopen()
        }
        expect(await other.dump()).to.deep.equal(await n.dump())
        expect(other.leases.ids()).to.deep.equal(n.leases.ids())
      } finally {
        await other.close()
      }
    })

    it('changes nothing when a batch is dropped before its write (a crash or a refused entry)', async () => {
      await n.apply({grant: {ID: 1n, TTL: 10}})
      const dropped = n.leases.begin(n.rs.applied.index + 1)
      dropped.grant({ID: 2n, TTL: 10})
      dropped.attach(1n, b('k'))
      expect(dropped.revoke(1n).map(s)).to.deep.equal(['k'])
      expect(n.leases.ids()).to.deep.equal([1n])
      expect(n.leases.keysOf(1n)).to.deep.equal([])
      const o = await n.apply({grant: {ID: 2n, TTL: 10}})
      expect(o.error).to.equal(undefined)
    })

    it('commits a batch once, and only on the state it began on', async () => {
      await n.apply({grant: {ID: 1n, TTL: 10}})
      const stale = n.leases.begin(n.rs.applied.index + 1)
      stale.grant({ID: 2n, TTL: 10})
      await n.apply({grant: {ID: 3n, TTL: 10}})
      expect(() => stale.commit()).to.throw('changed after it began')
      const once = n.leases.begin(n.rs.applied.index + 1)
      once.commit()
      expect(() => once.commit()).to.throw('committed twice')
    })
  })

  describe('open', () => {
    const openFails = async (records: Array<[Uint8Array, Uint8Array]>): Promise<Error> => {
      await n.rs.db.write(records.map(([key, value]) => ({type: 'put' as const, key, value})))
      return rejects(LeaseStore.open(n.rs.db, n.dir))
    }
    const corrupt = (err: Error, key: string, problem: string): void => {
      expect(err).to.be.instanceOf(StorageCorruptError)
      expect(err.message).to.equal(`data dir ${n.dir}: record ${key} is corrupt: ${problem}`)
    }

    it('stops with STORAGE_CORRUPT on a lease record that does not decode or is out of range', async () => {
      corrupt(await openFails([[leaseKey(7n), Uint8Array.of(0x08)]]), '"L/" + id 0x0000000000000007',
        'cannot decode raftctl.v1.LeaseRecord: premature EOF')
      await n.rs.db.write([{type: 'del', key: leaseKey(7n)}])
      corrupt(await openFails([[leaseKey(8n), Uint8Array.of(0x08, 0x00)]]), '"L/" + id 0x0000000000000008',
        `lease TTL 0 is outside 1..${MAX_LEASE_TTL}`)
    })

    it('stops with STORAGE_CORRUPT on a key attached to no lease, or an attachment with a value', async () => {
      corrupt(await openFails([[attachmentKey(3n, b('k')), new Uint8Array(0)]]), '"L/" + id 0x0000000000000003 + key 0x6b',
        'a key is attached to lease 3, which has no lease record before it')
      await n.rs.db.write([{type: 'del', key: attachmentKey(3n, b('k'))}])
      await n.apply({grant: {ID: 4n, TTL: 10}})
      corrupt(await openFails([[attachmentKey(4n, b('k')), b('x')]]), '"L/" + id 0x0000000000000004 + key 0x6b',
        'a key attachment must have an empty value, found 1 bytes')
    })

    it('stops with STORAGE_CORRUPT on a key too short to name a lease', async () => {
      corrupt(await openFails([[b('L/abc'), new Uint8Array(0)]]), '"L/" + 0x616263',
        'a lease key must be "L/" + an 8-byte lease id (+ an attached key)')
    })
  })

  describe('snapshot section', () => {
    const fill = async (node: LeaseNode): Promise<void> => {
      for (const op of [
        {grant: {ID: 1n, TTL: 10}}, {grant: {ID: -7n, TTL: 900}}, {attach: [1n, 'x']}, {attach: [1n, 'a']},
        {attach: [-7n, 'k']}, {checkpoint: [{ID: -7n, remainingTTL: 450, grantedIndex: 2}]},
      ] as LeaseOp[]) await node.apply(op)
    }
    const collect = async (items: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> => {
      const out: Uint8Array[] = []
      for await (const i of items) out.push(i)
      return out
    }

    it('exports every lease with its keys and restores them into another node, replacing its leases', async () => {
      await fill(n)
      const items = await collect(n.leases.exportItems())
      expect(items.map((i) => LeaseSnapshotItem.decode(i)).map((i) => i.lease !== undefined ? `lease ${i.lease.TTL}/${i.lease.remainingTTL}@${i.lease.grantedIndex}` : s(i.key!)))
        .to.deep.equal(['lease 10/0@1', 'a', 'x', 'lease 900/450@2', 'k'])
      const other = await LeaseNode.create(tmp.make('raftctl-lease-'))
      try {
        await other.apply({grant: {ID: 99n, TTL: 5}})
        await other.apply({attach: [99n, 'gone']})
        const list = new OpList()
        const restore = await other.leases.beginRestore(list)
        for (const i of items) restore.add(i)
        expect(restore.leaseCount).to.equal(2)
        await other.rs.db.write(list.ops)
        restore.commit()
        expect(other.leases.ids()).to.deep.equal([-7n, 1n])
        expect(other.leases.get(-7n)).to.deep.equal({id: -7n, ttl: 900, remainingTtl: 450, grantedIndex: 2})
        expect(other.leases.keysOf(1n).map(s)).to.deep.equal(['a', 'x'])
        expect(await other.dump()).to.deep.equal(await n.dump())
        await other.reopen()
        expect(await other.dump()).to.deep.equal(await n.dump())
        expect(other.leases.keysOf(-7n).map(s)).to.deep.equal(['k'])
      } finally {
        await other.close()
      }
    })

    it('exports the state at the call, not at the first item', async () => {
      await fill(n)
      const items = n.leases.exportItems()
      await n.apply({grant: {ID: 2n, TTL: 10}})
      expect((await collect(items)).length).to.equal(5)
    })

    it('refuses malformed or out-of-order items with a SnapshotFileError and changes nothing', async () => {
      await n.apply({grant: {ID: 5n, TTL: 10}})
      const item = (ID: bigint, x: {lease?: {TTL: number, remainingTTL: number, grantedIndex?: number}, key?: Uint8Array}): Uint8Array => {
        const id = new Uint8Array(8)
        new DataView(id.buffer).setBigInt64(0, ID)
        const lease = x.lease === undefined ? undefined : {grantedIndex: 1, ...x.lease}
        return LeaseSnapshotItem.encode({ID: id, ...x, lease}).finish()
      }
      const cases: Array<[Uint8Array[], string]> = [
        [[item(1n, {key: b('k')})], 'lease item 1 of the snapshot: a key is attached to lease 1, which has no lease record before it'],
        [[item(2n, {lease: {TTL: 5, remainingTTL: 0}}), item(1n, {lease: {TTL: 5, remainingTTL: 0}})],
          'lease item 2 of the snapshot: lease 1 comes after lease 2; leases must be in ascending id order'],
        [[item(1n, {lease: {TTL: 0, remainingTTL: 0}})], `lease item 1 of the snapshot: lease TTL 0 is outside 1..${MAX_LEASE_TTL}`],
        [[item(1n, {lease: {TTL: 5, remainingTTL: 0, grantedIndex: 0}})], 'lease item 1 of the snapshot: granted index 0 is not an integer >= 1'],
        [[item(1n, {lease: {TTL: 5, remainingTTL: 0}}), item(1n, {key: b('b')}), item(1n, {key: b('a')})],
          'lease item 3 of the snapshot: the keys of lease 1 are not in ascending order'],
        [[LeaseSnapshotItem.encode({ID: Uint8Array.of(1)}).finish()], 'lease item 1 of the snapshot: the lease id has 1 bytes, not 8'],
        [[item(1n, {})], 'lease item 1 of the snapshot: the item is neither a lease nor a key'],
        [[Uint8Array.of(0xff)], 'lease item 1 of the snapshot: cannot decode raftctl.v1.LeaseSnapshotItem'],
      ]
      for (const [items, message] of cases) {
        const restore = await n.leases.beginRestore(new OpList())
        const err = (() => {
          try {
            for (const i of items) restore.add(i)
          } catch (e) {
            return e as Error
          }
          throw new Error(`restored ${items.length} bad items`)
        })()
        expect(err).to.be.instanceOf(SnapshotFileError)
        expect(err.message.startsWith(message), err.message).to.equal(true)
      }
      expect(n.leases.ids()).to.deep.equal([5n])
    })
  })
})
