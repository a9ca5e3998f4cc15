/**
 * Builds a LeaseState from records that arrive in "L/" key order: from RocksDB at open, or from
 * the lease section of a snapshot file at restore. Checks what that order guarantees: ids
 * strictly ascending (in byte order), each lease before its keys, keys of a lease strictly
 * ascending, every id other than 0.
 */
import {compareBytes} from '../storage/index.js'
import type {LeaseId} from './id.js'
import {leaseIdBytes, type LeaseFields} from './records.js'
import {LeaseState} from './state.js'

export class LeaseStateBuilder {
  readonly state = new LeaseState()
  private last: {idBytes: Uint8Array, id: LeaseId, key?: Uint8Array} | undefined

  /** Adds a lease; returns the problem when it is out of order or id 0. */
  lease(id: LeaseId, f: LeaseFields): string | undefined {
    if (id === 0n) return 'lease id 0 names no lease'
    const idBytes = leaseIdBytes(id)
    if (this.last !== undefined && compareBytes(idBytes, this.last.idBytes) <= 0) {
      return `lease ${id} comes after lease ${this.last.id}; leases must be in ascending id order`
    }
    this.state.setLease(id, f)
    this.last = {idBytes, id}
    return undefined
  }

  /** Adds a key attached to the lease added last; returns the problem when it is not. */
  attach(id: LeaseId, key: Uint8Array): string | undefined {
    if (this.last === undefined || this.last.id !== id) return `a key is attached to lease ${id}, which has no lease record before it`
    if (key.length === 0) return `an empty key is attached to lease ${id}`
    if (this.last.key !== undefined && compareBytes(key, this.last.key) <= 0) {
      return `the keys of lease ${id} are not in ascending order`
    }
    const copy = new Uint8Array(key)
    this.state.setAttached(id, copy, true)
    this.last = {...this.last, key: copy}
    return undefined
  }

  /** The number of leases added. */
  get count(): number {
    return this.state.count
  }
}
