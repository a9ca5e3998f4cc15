/**
 * Leader election: etcd's recipe (clientv3/concurrency.Election), key for key, so that etcdctl
 * elect, etcd's Election service and this recipe take part in the same elections.
 *
 * - A campaigner owns `<name>/<lease hex>` (put with its lease, value = its proposal); the
 *   leader is the campaigner whose key has the smallest create revision under `<name>/`.
 *   Campaigners queue in create-revision order and each waits only for its predecessor's key to
 *   be deleted, as the mutex does.
 * - Proclaim changes the leader's value without a new election, only while the leader key still
 *   has the create revision it was elected with (else "election: not leader").
 * - Resign deletes the leader key under the same condition, so a resign never deletes a newer
 *   campaigner's key.
 * - Leader reads the current leader's key and value; Observe yields the current leader and then
 *   every change of leader or value, in revision order (not necessarily every intermediate one).
 */
import type {ResponseHeader} from '../../generated/etcd/etcdserverpb/header.js'
import type {RangeResponse} from '../../generated/etcd/etcdserverpb/kv.js'
import {Event_EventType, type KeyValue} from '../../generated/etcd/mvccpb/kv.js'
import {type Bytes, toBytes} from '../keys.js'
import {createRevisionIs, deleteRequest, headerOf, oldestUnder, putRequest, rangeRequest, txnRequest} from './etcd.js'
import {ElectionNoLeaderError, ElectionNotLeaderError} from './errors.js'
import {namePrefix, ownKey} from './mutex.js'
import type {LeaseHolder} from './session.js'
import {waitDeletes, watchCreate, WatchSubscription} from './wait.js'

/** One observation: the leader's key and value, and the header of the revision it was read at. */
export interface LeaderObservation {
  readonly header: ResponseHeader
  readonly kv: KeyValue
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0

export class Election {
  private leaderKey: Uint8Array = new Uint8Array(0)
  private leaderRev = 0
  private leaderSession: LeaseHolder | undefined
  private hdr: ResponseHeader | undefined

  /** `prefix` is the raw key prefix (`<name>/`); use Election.create or Election.resume. */
  private constructor(private readonly session: LeaseHolder, private readonly prefix: Uint8Array) {}

  /** An election on `name` (keys under `<name>/`). */
  static create(session: LeaseHolder, name: Bytes): Election {
    return new Election(session, namePrefix(name))
  }

  /**
   * An election whose leadership this session already holds, known by its key and the key's
   * create revision (etcd's ResumeElection; as there, `prefix` is taken as it is, without '/').
   */
  static resume(session: LeaseHolder, prefix: Bytes, leaderKey: Uint8Array, leaderRev: number): Election {
    const e = new Election(session, toBytes(prefix))
    e.leaderKey = leaderKey
    e.leaderRev = leaderRev
    e.leaderSession = session
    return e
  }

  /**
   * Campaigns with `value` and waits until elected. Aborting `signal` stops the wait and
   * withdraws the candidacy (deletes the key); any other failure leaves the key in place, as etcd.
   */
  async campaign(value: Bytes, signal?: AbortSignal): Promise<void> {
    const {client, lease} = this.session
    const val = toBytes(value)
    const k = ownKey(this.prefix, lease)
    const res = await client.txn(txnRequest(
      [createRevisionIs(k, 0)], [{requestPut: putRequest(k, val, lease)}], [{requestRange: rangeRequest(k)}],
    ), signal)
    this.leaderKey = k
    this.leaderRev = headerOf(res).revision
    this.leaderSession = this.session
    if (!res.succeeded) {
      const kv = res.responses[0].responseRange!.kvs[0]
      this.leaderRev = kv.createRevision
      if (!sameBytes(kv.value, val)) {
        try {
          await this.proclaim(val, signal)
        } catch (err) {
          await this.resign().catch(() => undefined)
          throw err
        }
      }
    }
    try {
      await waitDeletes(client, this.prefix, this.leaderRev - 1, signal)
    } catch (err) {
      if (signal?.aborted === true) await this.resign().catch(() => undefined)
      else this.leaderSession = undefined
      throw err
    }
    this.hdr = headerOf(res)
  }

  /** Sets the leader's value, if this session is still the leader elected at `rev`. */
  async proclaim(value: Bytes, signal?: AbortSignal): Promise<void> {
    if (this.leaderSession === undefined) throw new ElectionNotLeaderError()
    const res = await this.session.client.txn(txnRequest(
      [createRevisionIs(this.leaderKey, this.leaderRev)],
      [{requestPut: putRequest(this.leaderKey, toBytes(value), this.leaderSession.lease)}],
    ), signal)
    if (!res.succeeded) {
      this.leaderKey = new Uint8Array(0)
      throw new ElectionNotLeaderError()
    }
    this.hdr = headerOf(res)
  }

  /** Gives up leadership (deletes the leader key if it is still this tenure's); no-op if not leader. */
  async resign(signal?: AbortSignal): Promise<void> {
    if (this.leaderSession === undefined) return
    try {
      const res = await this.session.client.txn(txnRequest(
        [createRevisionIs(this.leaderKey, this.leaderRev)], [{requestDeleteRange: deleteRequest(this.leaderKey)}],
      ), signal)
      this.hdr = headerOf(res)
    } finally {
      this.leaderKey = new Uint8Array(0)
      this.leaderSession = undefined
    }
  }

  /** The current leader (the oldest key under the prefix); ElectionNoLeaderError if none. */
  async leader(signal?: AbortSignal): Promise<RangeResponse> {
    const res = await this.session.client.range(oldestUnder(this.prefix), signal)
    if (res.kvs.length === 0) throw new ElectionNoLeaderError()
    return res
  }

  /**
   * Yields the current leader, then each change of leader or of its value, until `signal`
   * fires (the iteration then ends quietly) or a read or watch fails (it throws).
   */
  async* observe(signal?: AbortSignal): AsyncGenerator<LeaderObservation> {
    const client = this.session.client
    try {
      for (;;) {
        const res = await client.range(oldestUnder(this.prefix), signal)
        const first = res.kvs.length > 0 ? {header: headerOf(res), kv: res.kvs[0]} : await this.firstPut(headerOf(res).revision, signal)
        yield first
        yield* this.followKey(first, signal)
      }
    } catch (err) {
      if (signal?.aborted !== true) throw err
    }
  }

  /** Waits for the first key put under the prefix from `rev` on. */
  private async firstPut(rev: number, signal?: AbortSignal): Promise<LeaderObservation> {
    const sub = new WatchSubscription(this.session.client, watchCreate(this.prefix, rev, true), signal)
    try {
      for (;;) {
        const wr = await sub.next()
        const put = wr.events.find((ev) => ev.type === Event_EventType.PUT)
        if (put?.kv !== undefined) return {header: {...headerOf(wr), revision: put.kv.modRevision}, kv: put.kv}
      }
    } finally {
      sub.close()
    }
  }

  /** Yields each put of the leader's key after `from` until the key is deleted. */
  private async* followKey(from: LeaderObservation, signal?: AbortSignal): AsyncGenerator<LeaderObservation> {
    const sub = new WatchSubscription(this.session.client, watchCreate(from.kv.key, from.header.revision + 1), signal)
    try {
      for (;;) {
        const wr = await sub.next()
        for (const ev of wr.events) {
          if (ev.type === Event_EventType.DELETE) return
          if (ev.kv !== undefined) yield {header: headerOf(wr), kv: ev.kv}
        }
      }
    } finally {
      sub.close()
    }
  }

  /** The leader key if elected (empty otherwise). */
  get key(): Uint8Array {
    return this.leaderKey
  }

  /** The leader key's create revision, if elected: the fencing token of this tenure. */
  get rev(): number {
    return this.leaderRev
  }

  /** The header of the last successful campaign, proclaim or resign. */
  get header(): ResponseHeader | undefined {
    return this.hdr
  }
}
