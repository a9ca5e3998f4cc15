/** A one-node state machine over real RocksDB in a temp dir, fed with log entries by hand. */
import type {
  DeleteRangeRequest, InternalRequest, KeyValue, PutRequest, RangeRequest, TxnRequest,
} from '../../src/generated/raftctl/v1/kv.js'
import {type ApplyResult, encodeInternalRequest, KvStore, type KvStoreOptions} from '../../src/kv/index.js'
import {EMPTY_CONF_STATE, EntryType, type Entry} from '../../src/raft/types.js'
import {RaftStorage, type OpenOptions} from '../../src/storage/index.js'

export const b = (s: string): Uint8Array => new TextEncoder().encode(s)
export const s = (u: Uint8Array): string => new TextDecoder().decode(u)

export const CS = {...EMPTY_CONF_STATE, voters: [1]}
export const MEMBERS = [{id: 1, name: 'n1', peerUrls: ['127.0.0.1:2380'], clientUrls: ['127.0.0.1:2379']}]

export class TestNode {
  private nextId = 1
  private constructor(readonly dir: string, public rs: RaftStorage, public kv: KvStore, private readonly kvOpts: KvStoreOptions) {}

  static async create(dir: string, opts: Partial<OpenOptions> = {}, kvOpts: KvStoreOptions = {}): Promise<TestNode> {
    const rs = await RaftStorage.open(dir, {clusterId: 42, nodeId: 1, create: true, bootstrap: {confState: CS, members: MEMBERS}, ...opts})
    return new TestNode(dir, rs, await KvStore.open(rs, kvOpts), kvOpts)
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

  request(r: Omit<InternalRequest, 'id'>): Promise<ApplyResult> {
    return this.applyData(encodeInternalRequest({id: this.nextId++, ...r}))
  }

  put(key: string, value: string, prevKv = false): Promise<ApplyResult> {
    return this.request({put: {key: b(key), value: b(value), prevKv}})
  }

  del(key: string, rangeEnd = '', prevKv = false): Promise<ApplyResult> {
    const r: DeleteRangeRequest = {key: b(key), rangeEnd: b(rangeEnd), prevKv}
    return this.request({deleteRange: r})
  }

  txn(t: Partial<TxnRequest>): Promise<ApplyResult> {
    return this.request({txn: {compare: [], success: [], failure: [], ...t}})
  }

  range(key: string, rangeEnd = '', extra: Partial<RangeRequest> = {}) {
    return this.kv.range({key: b(key), rangeEnd: b(rangeEnd), limit: 0, revision: 0, serializable: true, keysOnly: false, countOnly: false, ...extra})
  }

  async get(key: string): Promise<KeyValue | undefined> {
    return (await this.range(key)).kvs[0]
  }

  async reopen(): Promise<void> {
    this.kv.close()
    await this.rs.close()
    this.rs = await RaftStorage.open(this.dir)
    this.kv = await KvStore.open(this.rs, this.kvOpts)
  }

  async close(): Promise<void> {
    this.kv.close()
    await this.rs.close()
  }
}

export const putOp = (key: string, value: string, prevKv = false): {requestPut: PutRequest} =>
  ({requestPut: {key: b(key), value: b(value), prevKv}})
export const rangeOp = (key: string, rangeEnd = ''): {requestRange: RangeRequest} =>
  ({requestRange: {key: b(key), rangeEnd: b(rangeEnd), limit: 0, revision: 0, serializable: false, keysOnly: false, countOnly: false}})
export const delOp = (key: string, rangeEnd = ''): {requestDeleteRange: DeleteRangeRequest} =>
  ({requestDeleteRange: {key: b(key), rangeEnd: b(rangeEnd), prevKv: false}})
