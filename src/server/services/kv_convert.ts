/**
 * Conversion of the MVCC store's watch events (etcd's types) to the legacy raftctl.v1 Watch
 * stream's, which the CLI's `kv watch` still reads (kv.ts). Only this edge knows both; it goes
 * away with the legacy Watch RPC.
 */
import type * as mvcc from '../../generated/etcd/mvccpb/kv.js'
import type * as v1 from '../../generated/raftctl/v1/kv.js'

export function kvFromEtcd(kv: mvcc.KeyValue): v1.KeyValue
export function kvFromEtcd(kv: mvcc.KeyValue | undefined): v1.KeyValue | undefined
export function kvFromEtcd(kv: mvcc.KeyValue | undefined): v1.KeyValue | undefined {
  if (kv === undefined) return undefined
  return {key: kv.key, createRevision: kv.createRevision, modRevision: kv.modRevision, version: kv.version, value: kv.value}
}

export const eventFromEtcd = (e: mvcc.Event): v1.Event =>
  ({type: e.type as number as v1.Event_EventType, kv: kvFromEtcd(e.kv), prevKv: kvFromEtcd(e.prevKv)})
