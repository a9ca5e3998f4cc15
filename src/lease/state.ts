/**
 * LeaseState: the in-memory copy of the replicated lease state (every lease and the keys attached
 * to it), loaded from the "L/" records at open and changed only by a committed LeaseBatch or a
 * snapshot restore, after their RocksDB batch is durable. It mirrors the records exactly, so
 * reads (exists, keys of a lease, the lease list) never touch the disk.
 */
import type {LeaseId} from './id.js'
import type {LeaseFields} from './records.js'
import type {Lease, LeaseSource} from './types.js'

/** Map keys for user keys: their hex rendering (bytes are not usable as Map keys). */
export const keyToken = (key: Uint8Array): string => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex')

/** One lease with its attached keys (token → key). */
export interface LeaseEntry extends Lease {
  readonly keys: Map<string, Uint8Array>
}

export class LeaseState implements LeaseSource {
  private readonly leases = new Map<LeaseId, LeaseEntry>()
  /** Increases with every change; a LeaseBatch refuses to commit on a state that moved on. */
  version = 0

  get(id: LeaseId): Lease | undefined {
    const e = this.leases.get(id)
    return e === undefined ? undefined : {id: e.id, ttl: e.ttl, remainingTtl: e.remainingTtl, grantedIndex: e.grantedIndex}
  }

  has(id: LeaseId): boolean {
    return this.leases.has(id)
  }

  /** @internal The entry with its key map; callers must not change it. */
  entry(id: LeaseId): LeaseEntry | undefined {
    return this.leases.get(id)
  }

  *list(): IterableIterator<Lease> {
    for (const e of this.leases.values()) yield {id: e.id, ttl: e.ttl, remainingTtl: e.remainingTtl, grantedIndex: e.grantedIndex}
  }

  get count(): number {
    return this.leases.size
  }

  /** Whether `key` is attached to lease `id`. */
  attached(id: LeaseId, key: Uint8Array): boolean {
    return this.leases.get(id)?.keys.has(keyToken(key)) ?? false
  }

  /** The keys attached to `id` in byte order (empty when the lease does not exist). */
  keysOf(id: LeaseId): Uint8Array[] {
    const e = this.leases.get(id)
    return e === undefined ? [] : [...e.keys.values()].sort(Buffer.compare)
  }

  /** Sets a lease's fields, keeping its keys (a new lease starts with none). */
  setLease(id: LeaseId, f: LeaseFields): void {
    const keys = this.leases.get(id)?.keys ?? new Map<string, Uint8Array>()
    this.leases.set(id, {id, ttl: f.ttl, remainingTtl: f.remainingTtl, grantedIndex: f.grantedIndex, keys})
    this.version += 1
  }

  /** Removes a lease with all its keys. */
  deleteLease(id: LeaseId): void {
    this.leases.delete(id)
    this.version += 1
  }

  /** Attaches or detaches a key of an existing lease. */
  setAttached(id: LeaseId, key: Uint8Array, attached: boolean): void {
    const e = this.leases.get(id)
    if (e === undefined) throw new Error(`lease state: key attached to lease ${id}, which does not exist`)
    if (attached) e.keys.set(keyToken(key), key)
    else e.keys.delete(keyToken(key))
    this.version += 1
  }

  /** Replaces everything with `other` (a snapshot restore). */
  replaceWith(other: LeaseState): void {
    this.leases.clear()
    for (const [id, e] of other.leases) this.leases.set(id, e)
    this.version += 1
  }
}
