/**
 * Representative messages of etcd's KV, Watch and Lease services for the wire test, each written
 * twice: as our generated TypeScript sees it and as the etcd3 client sees it (@grpc/proto-loader
 * with keepCase, longs and enums as strings, defaults, oneofs). Every field is set; ids are
 * beyond 2^53 (cluster and member ids beyond 2^63, where an int64 reading would go negative).
 * wire_cases_admin.ts holds the other services.
 */
import type {Codec} from './protos.js'
import {ResponseHeader} from '../../src/generated/etcd/etcdserverpb/header.js'
import {
  Compare_CompareResult as Result, Compare_CompareTarget as Target, RangeRequest_SortOrder as SortOrder,
  RangeRequest_SortTarget as SortTarget, TxnRequest, TxnResponse,
} from '../../src/generated/etcd/etcdserverpb/kv.js'
import {LeaseGrantRequest, LeaseLeasesResponse, LeaseTimeToLiveResponse} from '../../src/generated/etcd/etcdserverpb/lease.js'
import {WatchCreateRequest_FilterType as Filter, WatchRequest, WatchResponse} from '../../src/generated/etcd/etcdserverpb/watch.js'
import {Event_EventType as EventType, KeyValue} from '../../src/generated/etcd/mvccpb/kv.js'

/** One message in both shapes, and the gRPC method whose request or response it is. */
export interface WireCase {
  readonly name: string
  /** "package.Service/Method". */
  readonly method: string
  readonly side: 'request' | 'response'
  readonly codec: Codec<any>
  readonly ours: unknown
  readonly etcd3: Record<string, unknown>
}

export const b = (s: string): Buffer => Buffer.from(s)

/** etcd's usual first member id, a cluster id above 2^63 and a lease id above 2^53. */
export const MEMBER_ID = 0x8e9e05c52164694dn
export const CLUSTER_ID = 0xcdf818194e3a8c32n
export const LEASE_ID = 0x694d7c3a12fe1f0bn

export const HEADER = {
  ours: {clusterId: CLUSTER_ID, memberId: MEMBER_ID, revision: 9007199254740991, raftTerm: 42} satisfies ResponseHeader,
  etcd3: {cluster_id: String(CLUSTER_ID), member_id: String(MEMBER_ID), revision: '9007199254740991', raft_term: '42'},
}

const KV = {
  ours: {key: b('cfg/a'), createRevision: 7, modRevision: 9007199254740990, version: 3, value: b('on'), lease: LEASE_ID} satisfies KeyValue,
  etcd3: {key: b('cfg/a'), create_revision: '7', mod_revision: '9007199254740990', version: '3', value: b('on'), lease: String(LEASE_ID)},
}

const txnRequest: WireCase = {
  name: 'KV Txn request: every compare target and result, every op kind, all their fields',
  method: 'etcdserverpb.KV/Txn', side: 'request', codec: TxnRequest,
  ours: {
    compare: [
      {result: Result.EQUAL, target: Target.CREATE, key: b('lock'), createRevision: 0n, rangeEnd: b('')},
      {result: Result.GREATER, target: Target.VERSION, key: b('cfg/'), version: 2n, rangeEnd: b('cfg0')},
      {result: Result.LESS, target: Target.MOD, key: b('cfg/a'), modRevision: 1n << 60n, rangeEnd: b('')},
      {result: Result.NOT_EQUAL, target: Target.VALUE, key: b('cfg/a'), value: b('off'), rangeEnd: b('')},
      {result: Result.EQUAL, target: Target.LEASE, key: b('cfg/a'), lease: LEASE_ID, rangeEnd: b('')},
    ],
    success: [
      {requestRange: {key: b('cfg/'), rangeEnd: b('cfg0'), limit: 10, revision: 9007199254740991, sortOrder: SortOrder.DESCEND,
        sortTarget: SortTarget.VALUE, serializable: true, keysOnly: true, countOnly: true, minModRevision: 1, maxModRevision: 2,
        minCreateRevision: 3, maxCreateRevision: 4}},
      {requestPut: {key: b('cfg/a'), value: b('on'), lease: LEASE_ID, prevKv: true, ignoreValue: true, ignoreLease: true}},
    ],
    failure: [
      {requestDeleteRange: {key: b('\0'), rangeEnd: b('\0'), prevKv: true}},
      {requestTxn: {compare: [], success: [{requestPut: {key: b('x'), value: b(''), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false}}], failure: []}},
    ],
  } satisfies TxnRequest,
  etcd3: {
    compare: [
      {result: 'Equal', target: 'Create', key: b('lock'), create_revision: '0', target_union: 'create_revision', range_end: b('')},
      {result: 'Greater', target: 'Version', key: b('cfg/'), version: '2', target_union: 'version', range_end: b('cfg0')},
      {result: 'Less', target: 'Mod', key: b('cfg/a'), mod_revision: String(1n << 60n), target_union: 'mod_revision', range_end: b('')},
      {result: 'NotEqual', target: 'Value', key: b('cfg/a'), value: b('off'), target_union: 'value', range_end: b('')},
      {result: 'Equal', target: 'Lease', key: b('cfg/a'), lease: String(LEASE_ID), target_union: 'lease', range_end: b('')},
    ],
    success: [
      {request: 'request_range', request_range: {key: b('cfg/'), range_end: b('cfg0'), limit: '10', revision: '9007199254740991',
        sort_order: 'Descend', sort_target: 'Value', serializable: true, keys_only: true, count_only: true, min_mod_revision: '1',
        max_mod_revision: '2', min_create_revision: '3', max_create_revision: '4'}},
      {request: 'request_put', request_put: {key: b('cfg/a'), value: b('on'), lease: String(LEASE_ID), prev_kv: true, ignore_value: true, ignore_lease: true}},
    ],
    failure: [
      {request: 'request_delete_range', request_delete_range: {key: b('\0'), range_end: b('\0'), prev_kv: true}},
      {request: 'request_txn', request_txn: {compare: [], success: [{request: 'request_put', request_put: {key: b('x'), value: b(''), lease: '0',
        prev_kv: false, ignore_value: false, ignore_lease: false}}], failure: []}},
    ],
  },
}

const txnResponse: WireCase = {
  name: 'KV Txn response: a response of every op kind with the header, kvs, more, count and prev_kv',
  method: 'etcdserverpb.KV/Txn', side: 'response', codec: TxnResponse,
  ours: {
    header: HEADER.ours, succeeded: true,
    responses: [
      {responseRange: {header: HEADER.ours, kvs: [KV.ours], more: true, count: 12}},
      {responsePut: {header: HEADER.ours, prevKv: KV.ours}},
      {responseDeleteRange: {header: HEADER.ours, deleted: 2, prevKvs: [KV.ours, KV.ours]}},
      {responseTxn: {header: HEADER.ours, succeeded: false, responses: []}},
    ],
  } satisfies TxnResponse,
  etcd3: {
    header: HEADER.etcd3, succeeded: true,
    responses: [
      {response: 'response_range', response_range: {header: HEADER.etcd3, kvs: [KV.etcd3], more: true, count: '12'}},
      {response: 'response_put', response_put: {header: HEADER.etcd3, prev_kv: KV.etcd3}},
      {response: 'response_delete_range', response_delete_range: {header: HEADER.etcd3, deleted: '2', prev_kvs: [KV.etcd3, KV.etcd3]}},
      {response: 'response_txn', response_txn: {header: HEADER.etcd3, succeeded: false, responses: []}},
    ],
  },
}

const watchCreate: WireCase = {
  name: 'Watch request: a create with every field, a client-chosen watch id above 2^53',
  method: 'etcdserverpb.Watch/Watch', side: 'request', codec: WatchRequest,
  ours: {createRequest: {key: b('cfg/'), rangeEnd: b('cfg0'), startRevision: 5, progressNotify: true, filters: [Filter.NOPUT, Filter.NODELETE],
    prevKv: true, watchId: 1n << 62n, fragment: true}} satisfies WatchRequest,
  etcd3: {request_union: 'create_request', create_request: {key: b('cfg/'), range_end: b('cfg0'), start_revision: '5', progress_notify: true,
    filters: ['Noput', 'Nodelete'], prev_kv: true, watch_id: String(1n << 62n), fragment: true}},
}

const watchResponse: WireCase = {
  name: 'Watch response: PUT and DELETE events with prev_kv, compact revision, cancel reason, fragment',
  method: 'etcdserverpb.Watch/Watch', side: 'response', codec: WatchResponse,
  ours: {header: HEADER.ours, watchId: 1n << 62n, created: true, canceled: true, compactRevision: 4, cancelReason: 'compacted', fragment: true,
    events: [{type: EventType.PUT, kv: KV.ours, prevKv: KV.ours}, {type: EventType.DELETE, kv: {...KV.ours, value: b(''), version: 0}, prevKv: KV.ours}]} satisfies WatchResponse,
  etcd3: {header: HEADER.etcd3, watch_id: String(1n << 62n), created: true, canceled: true, compact_revision: '4', cancel_reason: 'compacted', fragment: true,
    events: [{type: 'Put', kv: KV.etcd3, prev_kv: KV.etcd3}, {type: 'Delete', kv: {...KV.etcd3, value: b(''), version: '0'}, prev_kv: KV.etcd3}]},
}

const leaseGrant: WireCase = {
  name: 'Lease grant request with a client-chosen id above 2^53',
  method: 'etcdserverpb.Lease/LeaseGrant', side: 'request', codec: LeaseGrantRequest,
  ours: {TTL: 60, ID: LEASE_ID} satisfies LeaseGrantRequest,
  etcd3: {TTL: '60', ID: String(LEASE_ID)},
}

const leaseTtl: WireCase = {
  name: 'Lease time-to-live response with keys',
  method: 'etcdserverpb.Lease/LeaseTimeToLive', side: 'response', codec: LeaseTimeToLiveResponse,
  ours: {header: HEADER.ours, ID: LEASE_ID, TTL: 57, grantedTTL: 60, keys: [b('cfg/a'), b('cfg/b')]} satisfies LeaseTimeToLiveResponse,
  etcd3: {header: HEADER.etcd3, ID: String(LEASE_ID), TTL: '57', grantedTTL: '60', keys: [b('cfg/a'), b('cfg/b')]},
}

const leaseLeases: WireCase = {
  name: 'Lease list response',
  method: 'etcdserverpb.Lease/LeaseLeases', side: 'response', codec: LeaseLeasesResponse,
  ours: {header: HEADER.ours, leases: [{ID: LEASE_ID}, {ID: 1n}]} satisfies LeaseLeasesResponse,
  etcd3: {header: HEADER.etcd3, leases: [{ID: String(LEASE_ID)}, {ID: '1'}]},
}

export const KV_WATCH_LEASE_CASES: readonly WireCase[] = [txnRequest, txnResponse, watchCreate, watchResponse, leaseGrant, leaseTtl, leaseLeases]
