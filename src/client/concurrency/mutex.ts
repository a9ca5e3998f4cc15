/**
 * A distributed mutex: etcd's v3 lock recipe (clientv3/concurrency.Mutex), key for key, so that
 * etcdctl lock, etcd's Lock service, Go's clientv3 and this recipe contend on the same names.
 *
 * - Each contender owns the key `<name>/<lease id in lower-case hex>`, put with its session's
 *   lease in one Txn that compares its create revision with 0 (so a session that already holds
 *   or waits for the lock reuses its key) and reads the oldest key under `<name>/` in the same
 *   revision.
 * - The holder is the contender whose key has the smallest create revision under `<name>/`.
 *   Waiters queue in create-revision order (fair, first come first served); each watches only
 *   its direct predecessor (the youngest key created before its own) until it is deleted.
 * - When the wait ends, the contender checks that its key still exists: if its lease ended while
 *   it waited, lock() fails with "mutex: session is expired" instead of returning a lock nobody
 *   holds (etcd 3.5's check; etcd 3.4's recipe returned the lock).
 * - unlock() deletes the key; a holder that dies loses the lock when its lease expires (within
 *   the session TTL), which deletes the key.
 * - Fencing: `revision` is the create revision of the holder's key. It grows with every new
 *   holder, so a resource can refuse writes carrying a smaller one; and isOwner() is the Txn
 *   comparison that makes a write to etcd itself conditional on still holding the lock.
 */
import type {ResponseHeader} from '../../generated/etcd/etcdserverpb/header.js'
import type {Compare} from '../../generated/etcd/etcdserverpb/kv.js'
import {type Bytes, toBytes} from '../keys.js'
import {createRevisionIs, deleteRequest, headerOf, oldestUnder, putRequest, rangeRequest, txnRequest} from './etcd.js'
import {MutexSessionExpiredError} from './errors.js'
import {type LeaseHolder, leaseHex} from './session.js'
import {waitDeletes} from './wait.js'

const EMPTY = new Uint8Array(0)

/** `prefix` followed by '/' (the recipes' key prefix of a name). */
export function namePrefix(name: Bytes): Uint8Array {
  return Buffer.concat([toBytes(name), Buffer.from('/')])
}

/** The key a lease owns under a prefix: `<prefix><lease hex>` (etcd's `%s%x`). */
export function ownKey(prefix: Uint8Array, lease: bigint): Uint8Array {
  return Buffer.concat([prefix, Buffer.from(leaseHex(lease))])
}

export class Mutex {
  private readonly prefix: Uint8Array
  private myKey: Uint8Array = EMPTY
  private myRev = -1
  private hdr: ResponseHeader | undefined

  constructor(private readonly session: LeaseHolder, name: Bytes) {
    this.prefix = namePrefix(name)
  }

  /**
   * Waits until this session holds the lock. Aborting `signal` stops the wait and deletes this
   * contender's key (leaving the queue), then rejects with the signal's reason.
   */
  async lock(signal?: AbortSignal): Promise<void> {
    const {client, lease} = this.session
    this.myKey = ownKey(this.prefix, lease)
    const res = await client.txn(txnRequest(
      [createRevisionIs(this.myKey, 0)],
      [{requestPut: putRequest(this.myKey, EMPTY, lease)}, {requestRange: oldestUnder(this.prefix)}],
      [{requestRange: rangeRequest(this.myKey)}, {requestRange: oldestUnder(this.prefix)}],
    ), signal)
    this.myRev = res.succeeded ? headerOf(res).revision : res.responses[0].responseRange!.kvs[0].createRevision
    const owner = res.responses[1].responseRange!.kvs
    if (owner.length === 0 || owner[0].createRevision === this.myRev) {
      this.hdr = headerOf(res)
      return
    }
    let hdr
    try {
      hdr = await waitDeletes(client, this.prefix, this.myRev - 1, signal)
      // The lease may have ended while waiting, deleting the key: then the lock is not ours.
      if ((await client.range(rangeRequest(this.myKey), signal)).kvs.length === 0) throw new MutexSessionExpiredError()
    } catch (err) {
      await this.unlock().catch(() => undefined)
      throw err
    }
    this.hdr = hdr
  }

  /** Releases the lock (or leaves the queue) by deleting this contender's key. */
  async unlock(signal?: AbortSignal): Promise<void> {
    await this.session.client.deleteRange(deleteRequest(this.myKey), signal)
    this.myKey = Uint8Array.of(0)
    this.myRev = -1
  }

  /** The Txn comparison true only while this contender's key is the one it created. */
  isOwner(): Compare {
    return createRevisionIs(this.myKey, this.myRev)
  }

  /** This contender's key (`<name>/<lease hex>`); "\0" after unlock, empty before lock. */
  get key(): Uint8Array {
    return this.myKey
  }

  /** The create revision of this contender's key: the fencing token of its tenure (-1 if none). */
  get revision(): number {
    return this.myRev
  }

  /** The header of the response that completed lock(). */
  get header(): ResponseHeader | undefined {
    return this.hdr
  }
}
