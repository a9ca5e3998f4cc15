/**
 * A one-node state machine (the MVCC store with its leases, as the server opens it) over real
 * RocksDB in a temp dir, fed with log entries by hand.
 */
import {
  type DeleteRangeRequest, type PutRequest, type RangeRequest, RangeRequest_SortOrder, RangeRequest_SortTarget,
  type TxnRequest,
} from '../../src/generated/etcd/etcdserverpb/kv.js'
import type {KeyValue} from '../../src/generated/etcd/mvccpb/kv.js'
import type {InternalRaftRequest} from '../../src/generated/raftctl/v1/internal.js'
import {type ApplyResult, encodeInternalRequest, KvStore, type KvStoreOptions, type SnapshotRecord} from '../../src/kv/index.js'
import {encodeRecord} from '../../src/kv/codec.js'
import {u64be} from '../../src/storage/keys.js'
import {openStateMachine, type LeaseStore} from '../../src/lease/index.js'
import {EMPTY_CONF_STATE, EntryType, type Entry} from '../../src/raft/types.js'
import {RaftStorage, type OpenOptions} from '../../src/storage/index.js'

export const b = (s: string): Uint8Array => new TextEncoder().encode(s)
export const s = (u: Uint8Array): string => new TextDecoder().decode(u)

export const CS = {...EMPTY_CONF_STATE, voters: [1]}
export const MEMBERS = [{id: 1, name: 'n1', peerUrls: ['127.0.0.1:2380'], clientUrls: ['127.0.0.1:2379']}]

export class TestNode {
  private nextId = 1
  private constructor(
    readonly dir: string, public rs: RaftStorage, public kv: KvStore, public leases: LeaseStore, private readonly kvOpts: KvStoreOptions,
  ) {}

  static async create(dir: string, opts: Partial<OpenOptions> = {}, kvOpts: KvStoreOptions = {}): Promise<TestNode> {
    const rs = await RaftStorage.open(dir, {clusterId: 42, nodeId: 1, create: true, bootstrap: {confState: CS, members: MEMBERS}, ...opts})
    const {kv, leases} = await openStateMachine(rs, kvOpts)
    return new TestNode(dir, rs, kv, leases, kvOpts)
  }

  /** Appends an entry with `data` at the next index (term 1), persists it and applies it. */
  async applyData(data: Uint8Array, term = 1): Promise<ApplyResult> {
    const entry = this.entry(this.rs.lastIndex() + 1, data, term)
    await this.rs.persist({entries: [entry], hardState: {term, vote: 1, commit: entry.index}})
    return this.kv.apply(entry)
  }

  entry(index: number, data: Uint8Array, term = 1): Entry {
    return {entryType: EntryType.EntryNormal, index, term, data, context: new Uint8Array(0)}
  }

  request(r: Omit<InternalRaftRequest, 'id'>): Promise<ApplyResult> {
    return this.applyData(encodeInternalRequest({id: this.nextId++, ...r}))
  }

  put(key: string, value: string, prevKv = false, extra: Partial<PutRequest> = {}): Promise<ApplyResult> {
    return this.request({put: putReq(key, value, prevKv, extra)})
  }

  compact(revision: number, physical = false): Promise<ApplyResult> {
    return this.request({compaction: {revision, physical}})
  }

  del(key: string, rangeEnd = '', prevKv = false): Promise<ApplyResult> {
    const r: DeleteRangeRequest = {key: b(key), rangeEnd: b(rangeEnd), prevKv}
    return this.request({deleteRange: r})
  }

  txn(t: Partial<TxnRequest>): Promise<ApplyResult> {
    return this.request({txn: {compare: [], success: [], failure: [], ...t}})
  }

  range(key: string, rangeEnd = '', extra: Partial<RangeRequest> = {}) {
    return this.kv.range(rangeReq(key, rangeEnd, extra))
  }

  async get(key: string): Promise<KeyValue | undefined> {
    return (await this.range(key)).kvs[0]
  }

  async reopen(): Promise<void> {
    await this.kv.close()
    await this.rs.close()
    this.rs = await RaftStorage.open(this.dir)
    ;({kv: this.kv, leases: this.leases} = await openStateMachine(this.rs, this.kvOpts))
  }

  async close(): Promise<void> {
    await this.kv.close()
    await this.rs.close()
  }
}

export const putReq = (key: string, value: string, prevKv = false, extra: Partial<PutRequest> = {}): PutRequest =>
  ({key: b(key), value: b(value), lease: 0n, prevKv, ignoreValue: false, ignoreLease: false, ...extra})
export const rangeReq = (key: string, rangeEnd = '', extra: Partial<RangeRequest> = {}): RangeRequest => ({
  key: b(key), rangeEnd: b(rangeEnd), limit: 0, revision: 0, sortOrder: RangeRequest_SortOrder.NONE,
  sortTarget: RangeRequest_SortTarget.KEY, serializable: false, keysOnly: false, countOnly: false,
  minModRevision: 0, maxModRevision: 0, minCreateRevision: 0, maxCreateRevision: 0, ...extra,
})
export const putOp = (key: string, value: string, prevKv = false): {requestPut: PutRequest} =>
  ({requestPut: putReq(key, value, prevKv)})
export const rangeOp = (key: string, rangeEnd = '', extra: Partial<RangeRequest> = {}): {requestRange: RangeRequest} =>
  ({requestRange: rangeReq(key, rangeEnd, extra)})
export const delOp = (key: string, rangeEnd = ''): {requestDeleteRange: DeleteRangeRequest} =>
  ({requestDeleteRange: {key: b(key), rangeEnd: b(rangeEnd), prevKv: false}})

/** Snapshot-file records of puts (each KeyValue at main revision mod_revision, sub 0), in revision order. */
export function putRecords(kvs: readonly KeyValue[]): SnapshotRecord[] {
  return [...kvs].sort((x, y) => x.modRevision - y.modRevision).map((kv) => ({
    revision: Buffer.concat([u64be(kv.modRevision), u64be(0)]), value: encodeRecord({kind: 'put', kv}),
  }))
}
