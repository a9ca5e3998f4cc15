/**
 * A one-node lease state machine over real RocksDB in a temp dir, fed with log entries by hand,
 * for unit tests of the lease state alone (the key/value store's apply of real InternalRaftRequest
 * entries with leases is tested in kv_apply.test.ts). Entries carry a test-only encoding of one
 * lease operation, and LeaseNode.applyEntry plays the store's part as src/kv/lease_hooks.ts
 * describes it: skip an entry at or below the applied index, stage the operation on a LeaseBatch,
 * write its ops with the applied index in one batch (RaftStorage.commitApplied), then commit the
 * batch; a LeaseError makes the entry a no-op.
 */
import {EMPTY_CONF_STATE, EntryType, type Entry} from '../../src/raft/types.js'
import {LeaseError, LeaseStore, LEASE_PREFIX, type Checkpoint, type LeaseBatch, type LeaseChanges} from '../../src/lease/index.js'
import {RaftStorage} from '../../src/storage/index.js'

export const b = (s: string): Uint8Array => new TextEncoder().encode(s)
export const s = (u: Uint8Array): string => new TextDecoder().decode(u)

/** One lease operation of a test entry. */
export type LeaseOp =
  | {readonly grant: {readonly ID: bigint, readonly TTL: number}}
  /** A client's revoke, or with `grantedIndex` the leader's revoke of that expired grant. */
  | {readonly revoke: bigint, readonly grantedIndex?: number}
  | {readonly checkpoint: readonly Checkpoint[]}
  | {readonly attach: readonly [bigint, string]}
  | {readonly detach: readonly [bigint, string]}
  /** A put moving `key` from lease `from` to lease `to` in one entry (detach then attach). */
  | {readonly move: {readonly key: string, readonly from: bigint, readonly to: bigint}}

const json = (op: LeaseOp): string => JSON.stringify(op, (_k, v) => typeof v === 'bigint' ? `${v}n` : v)
const parse = (text: string): LeaseOp => JSON.parse(text, (_k, v) => typeof v === 'string' && /^-?\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v)

export const encodeOp = (op: LeaseOp): Uint8Array => b(json(op))
export const decodeOp = (data: Uint8Array): LeaseOp => parse(s(data))

/** What applying one entry did. */
export interface Outcome {
  readonly index: number
  readonly applied: boolean
  readonly result?: unknown
  readonly error?: LeaseError
  readonly changes?: LeaseChanges
}

function run(batch: LeaseBatch, op: LeaseOp): unknown {
  if ('grant' in op) return batch.grant(op.grant)
  if ('revoke' in op) return batch.revoke(op.revoke, op.grantedIndex).map(s)
  if ('checkpoint' in op) return batch.checkpoint(op.checkpoint)
  if ('attach' in op) return batch.attach(op.attach[0], b(op.attach[1]))
  if ('detach' in op) return batch.detach(op.detach[0], b(op.detach[1]))
  if (op.move.from !== 0n) batch.detach(op.move.from, b(op.move.key))
  if (op.move.to !== 0n) batch.attach(op.move.to, b(op.move.key))
  return undefined
}

export class LeaseNode {
  private constructor(readonly dir: string, public rs: RaftStorage, public leases: LeaseStore) {}

  static async create(dir: string): Promise<LeaseNode> {
    const rs = await RaftStorage.open(dir, {
      clusterId: 42, nodeId: 1, create: true,
      bootstrap: {confState: {...EMPTY_CONF_STATE, voters: [1]}, members: [{id: 1, name: 'n1', peerUrls: ['127.0.0.1:2380'], clientUrls: []}]},
    })
    return new LeaseNode(dir, rs, await LeaseStore.open(rs.db, dir))
  }

  /** Appends an entry with `op` at the next index (term 1), persists it and applies it. */
  async apply(op: LeaseOp): Promise<Outcome> {
    const index = this.rs.lastIndex() + 1
    const entry: Entry = {entryType: EntryType.EntryNormal, index, term: 1, data: encodeOp(op), context: new Uint8Array(0)}
    await this.rs.persist({entries: [entry], hardState: {term: 1, vote: 1, commit: index}})
    return this.applyEntry(entry)
  }

  /** Applies a persisted entry as the key/value store will (see the file comment). */
  applyEntry(entry: Pick<Entry, 'index' | 'term' | 'data'>): Promise<Outcome> {
    return this.rs.exclusive(async () => {
      const {index, term} = entry
      if (index <= this.rs.applied.index) return {index, applied: false}
      const batch = this.leases.begin(index)
      let result: unknown
      try {
        result = run(batch, decodeOp(entry.data))
      } catch (err) {
        if (!(err instanceof LeaseError)) throw err
        await this.rs.commitApplied(index, term, [])
        return {index, applied: true, error: err}
      }
      await this.rs.commitApplied(index, term, batch.ops())
      return {index, applied: true, result, changes: batch.commit()}
    })
  }

  /** Applies every entry of the log again, in order (each must be skipped). */
  async replayLog(): Promise<Outcome[]> {
    const out: Outcome[] = []
    for (const e of this.rs.entries(this.rs.firstIndex(), this.rs.lastIndex() + 1)) out.push(await this.applyEntry(e))
    return out
  }

  /** Every record of the lease key range, as hex pairs. */
  async dump(): Promise<string[]> {
    const out: string[] = []
    for await (const [k, v] of this.rs.db.iterate({gte: LEASE_PREFIX, lt: b('L0')})) out.push(`${k.toString('hex')}=${v.toString('hex')}`)
    return out
  }

  async reopen(): Promise<void> {
    await this.rs.close()
    this.rs = await RaftStorage.open(this.dir)
    this.leases = await LeaseStore.open(this.rs.db, this.dir)
  }

  async close(): Promise<void> {
    await this.rs.close()
  }
}
