/** Shared pieces of the watch hub tests: watch specs and a compact rendering of what a watcher got. */
import {type Event, Event_EventType} from '../../../src/generated/etcd/mvccpb/kv.js'
import type {UpperBound} from '../../../src/kv/watch/interval_tree.js'
import type {WatchItem, Watcher, WatchSpec} from '../../../src/kv/watch/watcher.js'
import {s} from './fake_source.js'

/** A watch of `key` (end undefined: that key; null: every key >= key; else [key, end)). */
export function spec(key: string, end: UpperBound | undefined = undefined, startRevision = 0, extra: Partial<WatchSpec> = {}): WatchSpec {
  return {range: {key, end}, startRevision, prevKv: false, noPut: false, noDelete: false, ...extra}
}

/** An event as `PUT k@rev` or `DEL k@rev`, with `<prev-rev` when it carries prev_kv. */
export function renderEvent(e: Event): string {
  const kind = e.type === Event_EventType.PUT ? 'PUT' : 'DEL'
  const prev = e.prevKv === undefined ? '' : `<${e.prevKv.modRevision}`
  return `${kind} ${s(e.kv!.key)}@${e.kv!.modRevision}${prev}`
}

/** An item as `rev: events...`, `progress rev`, `compacted C`, `failed`, or `closed`. */
export function renderItem(i: WatchItem): string {
  switch (i.kind) {
    case 'events': return i.events.length === 0 ? `progress ${i.revision}` : `${i.revision}: ${i.events.map(renderEvent).join(', ')}`
    case 'compacted': return `compacted ${i.compactRevision}`
    case 'failed': return `failed: ${i.reason}`
    case 'closed': return 'closed'
  }
}

/** Takes every item queued now. */
export function takeAll(w: Watcher): WatchItem[] {
  const out: WatchItem[] = []
  for (let i = w.take(); i !== undefined; i = w.take()) out.push(i)
  return out
}

export const rendered = (w: Watcher): string[] => takeAll(w).map(renderItem)
