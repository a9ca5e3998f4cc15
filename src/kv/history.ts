/**
 * Reading the store's history (R/ records) as watch events: one element per revision that has
 * events, in revision order, each revision's events in the order they were applied (sub
 * revision order), as etcd's watchable store replays them for a watch that starts in the past.
 *
 * A put record becomes a PUT event with the key's KeyValue after the write; a delete record a
 * DELETE event whose KeyValue holds the key and mod_revision = the delete's revision. With
 * `prevKv`, each event carries the key's KeyValue before it, found through the h/ index (none
 * when the key did not exist, or when that earlier revision was compacted away, as etcd).
 */
import {type Event, Event_EventType, type KeyValue} from '../generated/etcd/mvccpb/kv.js'
import type {Db} from '../storage/db.js'
import {StorageCorruptError} from '../storage/errors.js'
import {describeKey, historyKey, historyKeyBounds, revKey, revOfKey, type Revision} from '../storage/keys.js'
import {decodeRecord} from './codec.js'
import {compacted} from './errors.js'
import {readIndexEntry, readPut} from './view.js'

/** What history() reads from the store. */
export interface HistoryHost {
  readonly db: Db
  readonly dir: string
  readonly revision: number
  readonly compactRevision: number
}

/** The events of one revision. */
export interface RevisionEvents {
  readonly revision: number
  readonly events: Event[]
}

/** The key's KeyValue just before revision `rev` (undefined: missing, or compacted away). */
async function prevKvOf(host: HistoryHost, key: Uint8Array, rev: Revision): Promise<KeyValue | undefined> {
  const bounds = historyKeyBounds(key)
  const iter = host.db.iterate({gte: bounds.gte, lt: historyKey(key, rev), reverse: true, limit: 1})
  for await (const [k, v] of iter) {
    const e = readIndexEntry(host.dir, k, v)
    if (!e.put) return undefined
    try {
      return await readPut({db: host.db, dir: host.dir, compactRevision: () => host.compactRevision}, key, e.rev, rev.main - 1)
    } catch (err) {
      if ((err as {code?: string}).code === 'COMPACTED') return undefined
      throw err
    }
  }
  return undefined
}

/**
 * The events of revisions [from, to] (to is capped at the current revision). Throws COMPACTED
 * when `from` is below the compact revision. The RocksDB iterator is opened when the iteration
 * starts, so the records read are those of one moment even while compaction deletes older ones.
 */
export async function* history(host: HistoryHost, from: number, to = host.revision, opts: {prevKv?: boolean} = {}): AsyncGenerator<RevisionEvents> {
  if (from < host.compactRevision) throw compacted(from, host.compactRevision)
  const last = Math.min(to, host.revision)
  if (from > last) return
  const iter = host.db.iterate({gte: revKey({main: Math.max(from, 0), sub: 0}), lt: revKey({main: last + 1, sub: 0})})
  let current: RevisionEvents | undefined
  try {
    for await (const [k, v] of iter) {
      const rev = revOfKey(k)
      if (rev === undefined) throw new StorageCorruptError(host.dir, `history record ${describeKey(k)}`, 'the key is not R/ + two 8-byte revisions')
      const d = decodeRecord(v, rev.main)
      if (!d.ok) throw new StorageCorruptError(host.dir, `history record ${describeKey(k)}`, d.problem)
      const event: Event = {
        type: d.value.kind === 'put' ? Event_EventType.PUT : Event_EventType.DELETE, kv: d.value.kv,
        prevKv: opts.prevKv === true ? await prevKvOf(host, d.value.kv.key, rev) : undefined,
      }
      if (current !== undefined && current.revision !== rev.main) {
        yield current
        current = undefined
      }
      current ??= {revision: rev.main, events: []}
      current.events.push(event)
    }
    if (current !== undefined) yield current
  } finally {
    await iter.return?.()
  }
}
