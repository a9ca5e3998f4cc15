/**
 * LeaseBatch: the lease side of applying ONE log entry. The state machine stages grants,
 * revokes, checkpoints and key attachments on it, adds `ops()` to the entry's RocksDB batch (the
 * same batch as the key/value writes, the meta and the applied index), and calls `commit()` once
 * that batch is durable; only then does the in-memory LeaseState change. If anything fails before
 * the batch is written (a LeaseError, a refused txn), the batch is simply dropped: nothing was
 * changed, so the entry can be applied as a no-op or replayed after a restart with the same
 * outcome. Apply never reads a clock: every decision comes from the entry and the applied state.
 *
 * Invariants: reads through the batch (exists, keysOf) see the applied state plus what was staged;
 * `ops()` writes exactly the difference between the two; a batch commits at most once, and only
 * on the state it was begun on (one entry is applied at a time).
 */
import type {LeaseCheckpointEntry, LeaseRevokeEntry} from '../generated/raftctl/v1/internal.js'
import type {LeaseApply} from '../kv/lease_hooks.js'
import type {BatchOp} from '../storage/index.js'
import {checkpointsOf, revokeOf} from './entries.js'
import {LeaseError} from './errors.js'
import type {LeaseId} from './id.js'
import {attachmentKey, encodeLeaseRecord, leaseKey, type LeaseFields} from './records.js'
import {keyToken, type LeaseState} from './state.js'
import {checkLeaseId, isInt64, MAX_LEASE_TTL, NO_LEASE, type Checkpoint, type GrantRequest, type LeaseChanges} from './types.js'

interface StagedAttachment {
  readonly id: LeaseId
  readonly key: Uint8Array
  readonly attached: boolean
}

export class LeaseBatch implements LeaseApply {
  /** Staged lease records; null = revoked. */
  private readonly leases = new Map<LeaseId, LeaseFields | null>()
  private readonly attachments = new Map<string, StagedAttachment>()
  private readonly changes = {granted: [] as LeaseId[], revoked: [] as LeaseId[], checkpointed: [] as LeaseId[]}
  private readonly baseVersion: number
  private committed = false

  /**
   * Stages the lease side of entry `index` (a grant records it as the lease's granted index);
   * `onCommit` hears what a commit changed.
   */
  constructor(private readonly state: LeaseState, private readonly index: number, private readonly onCommit?: (changes: LeaseChanges) => void) {
    if (!Number.isSafeInteger(index) || index < 1) throw new RangeError(`a lease batch needs an entry index >= 1, got ${index}`)
    this.baseVersion = state.version
  }

  /** Whether lease `id` exists (applied or granted in this batch, and not revoked in it). */
  exists(id: LeaseId): boolean {
    const staged = this.leases.get(id)
    return staged === undefined ? this.state.has(id) : staged !== null
  }

  /** The keys attached to `id` as this batch sees them, in byte order. */
  keysOf(id: LeaseId): Uint8Array[] {
    if (!this.exists(id)) return []
    const keys = new Map(this.state.entry(id)?.keys ?? [])
    for (const [token, a] of this.attachments) {
      if (a.id !== id) continue
      const keyPart = token.slice(token.indexOf(':') + 1)
      if (a.attached) keys.set(keyPart, a.key)
      else keys.delete(keyPart)
    }
    return [...keys.values()].sort(Buffer.compare)
  }

  /**
   * Grants a lease. Refused (LeaseError) for id 0 or a TTL outside 1..MAX_LEASE_TTL (no raftctl
   * proposer writes those) and, as etcd, when the id exists: LEASE_EXISTS.
   */
  grant(req: GrantRequest): {ID: LeaseId, TTL: number} {
    const id = checkLeaseId(req.ID)
    if (!Number.isSafeInteger(req.TTL) || req.TTL <= 0) throw LeaseError.ttlNotPositive(req.TTL)
    if (req.TTL > MAX_LEASE_TTL) throw LeaseError.ttlTooLarge(req.TTL, MAX_LEASE_TTL)
    if (this.exists(id)) throw LeaseError.exists(id)
    this.leases.set(id, {ttl: req.TTL, remainingTtl: 0, grantedIndex: this.index})
    this.changes.granted.push(id)
    return {ID: id, TTL: req.TTL}
  }

  /**
   * Revokes a lease and detaches its keys. Returns the keys that were attached, in byte order:
   * the state machine deletes them in the same revision and the same batch. LEASE_NOT_FOUND when
   * the lease does not exist, or when `grantedIndex` (a revoke the leader decided because a lease
   * expired) names another grant than the lease's: that lease is gone and this is a new one.
   * A client's revoke passes 0 and revokes whatever lease has the id.
   */
  revoke(id: LeaseId, grantedIndex = 0): Uint8Array[] {
    checkLeaseId(id)
    if (!this.exists(id)) throw LeaseError.notFound(id)
    if (grantedIndex !== 0 && this.fields(id)!.grantedIndex !== grantedIndex) throw LeaseError.notFound(id)
    const keys = this.keysOf(id)
    for (const key of keys) this.stageAttachment(id, key, false)
    this.leases.set(id, null)
    this.changes.revoked.push(id)
    return keys
  }

  /** Applies a revoke entry of the log (see revoke). */
  applyRevoke(entry: LeaseRevokeEntry): Uint8Array[] {
    const {id, grantedIndex} = revokeOf(entry)
    return this.revoke(id, grantedIndex)
  }

  /** Applies a checkpoint entry of the log (see checkpoint). */
  applyCheckpoint(entry: LeaseCheckpointEntry): void {
    this.checkpoint(checkpointsOf(entry))
  }

  /**
   * Records the remaining TTLs a leader checkpointed. A checkpoint of a lease that no longer exists,
   * or of an earlier lease with the same id (another granted index), is skipped: it was revoked
   * after the leader took the checkpoint. The whole request is checked before anything is staged,
   * so a bad one changes nothing.
   */
  checkpoint(checkpoints: readonly Checkpoint[]): void {
    for (const cp of checkpoints) {
      if (!isInt64(cp.ID) || cp.ID === NO_LEASE) throw LeaseError.invalid(`a lease checkpoint names lease id ${cp.ID}`)
      if (!Number.isSafeInteger(cp.remainingTTL) || cp.remainingTTL < 0) {
        throw LeaseError.invalid(`the checkpoint of lease ${cp.ID} has remaining TTL ${cp.remainingTTL}; it must be an integer >= 0`)
      }
    }
    for (const cp of checkpoints) {
      const current = this.fields(cp.ID)
      if (current === undefined || current.grantedIndex !== cp.grantedIndex) continue
      this.leases.set(cp.ID, {...current, remainingTtl: cp.remainingTTL})
      this.changes.checkpointed.push(cp.ID)
    }
  }

  /** Attaches user key `key` to lease `id` (a put with that lease). LEASE_NOT_FOUND if it does not exist. */
  attach(id: LeaseId, key: Uint8Array): void {
    checkLeaseId(id)
    if (!this.exists(id)) throw LeaseError.notFound(id)
    if (key.length === 0) throw LeaseError.invalid(`an empty key cannot be attached to lease ${id}`)
    this.stageAttachment(id, key, true)
  }

  /** Detaches `key` from lease `id` (the key was deleted or put with another lease). */
  detach(id: LeaseId, key: Uint8Array): void {
    if (this.exists(id)) this.stageAttachment(id, key, false)
  }

  /** The RocksDB operations that write what was staged (the difference to the applied state). */
  ops(): BatchOp[] {
    const out: BatchOp[] = []
    for (const [id, f] of this.leases) {
      if (f !== null) out.push({type: 'put', key: leaseKey(id), value: encodeLeaseRecord(f)})
      else if (this.state.has(id)) out.push({type: 'del', key: leaseKey(id)})
    }
    for (const a of this.attachments.values()) {
      const before = this.state.attached(a.id, a.key)
      if (a.attached && !before) out.push({type: 'put', key: attachmentKey(a.id, a.key), value: new Uint8Array(0)})
      if (!a.attached && before) out.push({type: 'del', key: attachmentKey(a.id, a.key)})
    }
    return out
  }

  /**
   * Makes the staged changes the applied state. Call once, after the batch holding `ops()` was
   * written. Throws if the state changed since the batch began (two entries applied at once).
   */
  commit(): LeaseChanges {
    if (this.committed) throw new Error('a lease batch was committed twice')
    if (this.state.version !== this.baseVersion) throw new Error('a lease batch was committed on a lease state that changed after it began')
    this.committed = true
    for (const [id, f] of this.leases) {
      if (f === null) this.state.deleteLease(id)
      else this.state.setLease(id, f)
    }
    for (const a of this.attachments.values()) {
      if (this.state.has(a.id)) this.state.setAttached(a.id, a.key, a.attached)
    }
    this.onCommit?.(this.changes)
    return this.changes
  }

  private fields(id: LeaseId): LeaseFields | undefined {
    const staged = this.leases.get(id)
    if (staged !== undefined) return staged ?? undefined
    const lease = this.state.get(id)
    return lease === undefined ? undefined : {ttl: lease.ttl, remainingTtl: lease.remainingTtl, grantedIndex: lease.grantedIndex}
  }

  private stageAttachment(id: LeaseId, key: Uint8Array, attached: boolean): void {
    this.attachments.set(`${id}:${keyToken(key)}`, {id, key: new Uint8Array(key), attached})
  }
}
