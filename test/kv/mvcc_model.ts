/**
 * An in-memory model of etcd's MVCC store for the property tests: every write as a record
 * {main, sub, kind, kv}, the state at a revision by replaying the records up to it, and the
 * records a compaction keeps. Deliberately naive (a replay per question), so it is obviously right.
 */
import type {KeyValue} from '../../src/generated/etcd/mvccpb/kv.js'

export interface ModelRecord {
  readonly main: number
  readonly sub: number
  readonly kind: 'put' | 'delete'
  readonly kv: KeyValue
}

const str = (k: Uint8Array): string => Buffer.from(k).toString('utf8')

export class MvccModel {
  revision = 1
  compactRevision = 0
  readonly records: ModelRecord[] = []

  /** The live keys at revision `rev`, in key order. */
  stateAt(rev: number): KeyValue[] {
    const m = new Map<string, KeyValue>()
    for (const r of this.records) {
      if (r.main > rev) break
      if (r.kind === 'put') m.set(str(r.kv.key), r.kv)
      else m.delete(str(r.kv.key))
    }
    return [...m.entries()].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b))).map(([, kv]) => kv)
  }

  /** Applies one request's writes: puts of single keys and deletes of key lists, in order. */
  write(ops: ReadonlyArray<{put: [string, string]} | {del: string[]}>): void {
    const main = this.revision + 1
    let sub = 0
    const live = new Map(this.stateAt(this.revision).map((kv) => [str(kv.key), kv]))
    for (const op of ops) {
      if ('put' in op) {
        const [k, v] = op.put
        const prev = live.get(k)
        const kv: KeyValue = {
          key: Buffer.from(k), value: Buffer.from(v), createRevision: prev?.createRevision ?? main,
          modRevision: main, version: (prev?.version ?? 0) + 1, lease: 0n,
        }
        live.set(k, kv)
        this.records.push({main, sub: sub++, kind: 'put', kv})
      } else {
        for (const k of op.del) {
          if (!live.has(k)) continue
          live.delete(k)
          const kv: KeyValue = {key: Buffer.from(k), value: new Uint8Array(0), createRevision: 0, modRevision: main, version: 0, lease: 0n}
          this.records.push({main, sub: sub++, kind: 'delete', kv})
        }
      }
    }
    if (sub > 0) this.revision = main
  }

  /** The records a compaction at the compact revision keeps: each key's latest put <= it, and all later ones. */
  retained(): ModelRecord[] {
    const c = this.compactRevision
    const lastAtC = new Map<string, ModelRecord>()
    for (const r of this.records) if (r.main <= c) lastAtC.set(str(r.kv.key), r)
    const keep = new Set([...lastAtC.values()].filter((r) => r.kind === 'put'))
    return this.records.filter((r) => r.main > c || keep.has(r))
  }
}
