/**
 * Lease entries for the key/value store's TestNode (test/kv/helpers.ts): the InternalRaftRequest
 * lease_grant / lease_revoke / lease_checkpoint entries a raftctl member proposes, applied through
 * KvStore.apply like every other entry.
 */
import type {ApplyResult} from '../../src/kv/index.js'
import {checkpointEntry, revokeEntry, type Checkpoint, LEASE_PREFIX} from '../../src/lease/index.js'
import {b, s, type TestNode} from '../kv/helpers.js'

export const grant = (n: TestNode, ID: bigint, TTL = 60): Promise<ApplyResult> => n.request({leaseGrant: {ID, TTL}})

/** A client's revoke (grantedIndex 0), or the leader's revoke of the grant at `grantedIndex`. */
export const revoke = (n: TestNode, id: bigint, grantedIndex = 0): Promise<ApplyResult> =>
  n.request({leaseRevoke: revokeEntry(id, grantedIndex)})

export const checkpoint = (n: TestNode, cps: Checkpoint[]): Promise<ApplyResult> => n.request({leaseCheckpoint: checkpointEntry(cps)})

export const putLease = (n: TestNode, key: string, value: string, lease: bigint): Promise<ApplyResult> => n.put(key, value, false, {lease})

/** The keys attached to each lease, as strings: {"<id>": [keys...]}. */
export function attachments(n: TestNode): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const id of n.leases.ids()) out[String(id)] = n.leases.keysOf(id).map(s)
  return out
}

/** Every record of the "L/" range, as hex pairs. */
export async function leaseRecords(n: TestNode): Promise<string[]> {
  const out: string[] = []
  for await (const [k, v] of n.rs.db.iterate({gte: LEASE_PREFIX, lt: b('L0')})) out.push(`${k.toString('hex')}=${v.toString('hex')}`)
  return out
}

/** Every live key with its value and lease, from the store (k/). */
export async function liveKeys(n: TestNode): Promise<Array<[string, string, bigint]>> {
  const r = await n.range('\0', '\0')
  return r.kvs.map((kv) => [s(kv.key), s(kv.value), kv.lease])
}
