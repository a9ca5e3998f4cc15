/**
 * How the kv commands print keys and values: the --json result objects (KeyValueJson: text when
 * the bytes are UTF-8, base64 marked as such when not, so --json never loses a byte) and the
 * views of `kv get`, `kv watch` and `kv txn` in every --write-out format (src/cli/output.ts).
 */
import type {ResponseHeader} from '../generated/etcd/etcdserverpb/header.js'
import type {RangeResponse, ResponseOp, TxnResponse} from '../generated/etcd/etcdserverpb/kv.js'
import {type Event, Event_EventType, type KeyValue as EtcdKeyValue} from '../generated/etcd/mvccpb/kv.js'
import {type Chunk, etcdJson, type Field, type View} from './output.js'
import {hexEscaped, isUtf8, printable} from './printable.js'
import {type Cell, MAX_CELL, renderTable} from './table.js'

/**
 * A stored key as printed with --json: key and value as UTF-8 text, revisions as numbers. A key
 * or value that is not valid UTF-8 is given base64-encoded instead, with keyEncoding or
 * valueEncoding "base64" saying so (absent for text).
 */
export interface KeyValueJson {
  readonly key: string
  readonly value: string
  readonly createRevision: number
  readonly modRevision: number
  readonly version: number
  readonly keyEncoding?: 'base64'
  readonly valueEncoding?: 'base64'
}

/** A stored key's fields as printed (etcd's mvccpb.KeyValue; the lease is not shown). */
export type KeyValue = Pick<EtcdKeyValue, 'key' | 'value' | 'createRevision' | 'modRevision' | 'version'>

const toText = (b: Uint8Array): {text: string, base64: boolean} => isUtf8(b)
  ? {text: Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8'), base64: false}
  : {text: Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64'), base64: true}

export function kvToJson(kv: KeyValue): KeyValueJson {
  const k = toText(kv.key)
  const v = toText(kv.value)
  return {
    key: k.text, value: v.text, createRevision: kv.createRevision, modRevision: kv.modRevision, version: kv.version,
    ...(k.base64 ? {keyEncoding: 'base64' as const} : {}), ...(v.base64 ? {valueEncoding: 'base64' as const} : {}),
  }
}

/** How keys and values are shown: --hex, and whether stdout is a terminal (for --print-value-only). */
export interface ByteOptions {
  readonly hex: boolean
}

/** The bytes of a simple-format line: exact, or \xNN escapes with --hex. */
const raw = (b: Uint8Array, o: ByteOptions): Chunk => o.hex ? hexEscaped(b).text : b
const cell = (b: Uint8Array, o: ByteOptions): Cell => ({bytes: b, hex: o.hex})

function headerFields(h: ResponseHeader | undefined): Field[] {
  return [['ClusterID', h?.clusterId ?? 0n], ['MemberID', h?.memberId ?? 0n], ['Revision', h?.revision ?? 0], ['RaftTerm', h?.raftTerm ?? 0]]
}

/** A KeyValue's fields, each name after `prefix` (etcdctl names a watch event's previous KeyValue's "PrevKey", ...). */
function kvFields(kv: KeyValue, o: ByteOptions, keysOnly = false, prefix = ''): Field[] {
  return [
    [`${prefix}Key`, {bytes: kv.key, hex: o.hex}], [`${prefix}CreateRevision`, kv.createRevision], [`${prefix}ModRevision`, kv.modRevision],
    [`${prefix}Version`, kv.version], ...(keysOnly ? [] : [[`${prefix}Value`, {bytes: kv.value, hex: o.hex}] as Field]),
  ]
}

function kvTable(kvs: readonly KeyValue[], o: ByteOptions, keysOnly: boolean): string {
  if (keysOnly) return renderTable(['KEY'], kvs.map((kv) => [cell(kv.key, o)]))
  return renderTable(['KEY', 'VALUE', 'VERSION', 'CREATE REV', 'MOD REV'],
    kvs.map((kv) => [cell(kv.key, o), cell(kv.value, o), kv.version, kv.createRevision, kv.modRevision]))
}

/** What `kv get` prints, and how it was asked for. */
export interface GetData extends ByteOptions {
  readonly res: RangeResponse
  /** The key or prefix in words, for the sentences of the table format (e.g. `keys with prefix "a/"`). */
  readonly what: string
  readonly keysOnly: boolean
  readonly countOnly: boolean
  readonly printValueOnly: boolean
  /** stdout is a terminal: --print-value-only then ends with a newline. */
  readonly tty: boolean
}

/**
 * --print-value-only: the values, separated by newlines, each exactly as stored; a newline after
 * the last only on a terminal, so `kv get k --print-value-only > f` writes exactly the stored bytes.
 * With --hex each value is one line of escapes.
 */
function valuesOnly(d: GetData): Chunk[] {
  if (d.hex) return d.res.kvs.flatMap((kv) => [hexEscaped(kv.value).text, '\n'])
  const out: Chunk[] = d.res.kvs.flatMap((kv, i) => i === 0 ? [kv.value] : ['\n', kv.value])
  return d.tty && out.length > 0 ? [...out, '\n'] : out
}

export const getView: View<GetData> = {
  simple(d) {
    if (d.countOnly) return [`${d.res.count}\n`]
    if (d.printValueOnly) return valuesOnly(d)
    return d.res.kvs.flatMap((kv) => d.keysOnly ? [raw(kv.key, d), '\n'] : [raw(kv.key, d), '\n', raw(kv.value, d), '\n'])
  },
  table(d) {
    const r = d.res
    const rev = r.header?.revision ?? 0
    if (d.countOnly) return `${r.count} ${r.count === 1 ? 'key matches' : 'keys match'} (${d.what}, revision ${rev})`
    if (r.kvs.length === 0) return `no ${d.what} found (revision ${rev})`
    const more = r.more ? `\nshowing ${r.kvs.length} of ${r.count} keys; raise --limit to see more` : ''
    return kvTable(r.kvs, d, d.keysOnly) + more
  },
  fields(d) {
    return [...headerFields(d.res.header), ...d.res.kvs.flatMap((kv) => kvFields(kv, d, d.keysOnly)), ['More', d.res.more], ['Count', d.res.count]]
  },
  json: (d) => etcdJson(d.res),
}

/** One batch of `kv watch` events: all events of one revision. */
export interface WatchData extends ByteOptions {
  readonly revision: number
  readonly events: readonly Event[]
}

const eventType = (e: Event): 'PUT' | 'DELETE' => e.type === Event_EventType.DELETE ? 'DELETE' : 'PUT'
const eventKv = (e: Event): KeyValue => e.kv ?? {key: new Uint8Array(0), value: new Uint8Array(0), createRevision: 0, modRevision: 0, version: 0}

/**
 * The one-line form of an event in the table format: `PUT key = value (revision N)`, escaped and
 * cut, with `, was value` before the revision when the event carries the previous KeyValue.
 */
function eventLine(e: Event, revision: number, o: ByteOptions): string {
  const show = (b: Uint8Array): string => {
    const t = o.hex ? hexEscaped(b, MAX_CELL) : printable(b, {maxChars: MAX_CELL})
    return t.cut ? `${t.text}…` : t.text
  }
  const kv = eventKv(e)
  const was = e.prevKv === undefined ? '' : `, was ${show(e.prevKv.value)}`
  return eventType(e) === 'PUT' ? `PUT ${show(kv.key)} = ${show(kv.value)}${was} (revision ${revision})` : `DELETE ${show(kv.key)}${was} (revision ${revision})`
}

/** An event's lines in the simple format, as etcdctl: the type, the previous key and value when present, then key and value. */
function eventSimple(e: Event, o: ByteOptions): Chunk[] {
  const kvLines = (kv: KeyValue): Chunk[] => [raw(kv.key, o), '\n', raw(kv.value, o), '\n']
  return [eventType(e), '\n', ...(e.prevKv === undefined ? [] : kvLines(e.prevKv)), ...kvLines(eventKv(e))]
}

export const watchView: View<WatchData> = {
  simple: (d) => d.events.flatMap((e) => eventSimple(e, d)),
  table: (d) => d.events.map((e) => eventLine(e, d.revision, d)).join('\n'),
  fields: (d) => [['Revision', d.revision], ...d.events.flatMap((e): Field[] =>
    [['Type', eventType(e)], ...(e.prevKv === undefined ? [] : kvFields(e.prevKv, d, false, 'Prev')), ...kvFields(eventKv(e), d)])],
  json: (d) => ({Header: {revision: d.revision}, Events: d.events.map(etcdJson), CompactRevision: 0, Canceled: false, Created: false}),
}

/** The result of `kv txn` as the server answered it. */
export interface TxnData extends ByteOptions {
  readonly res: TxnResponse
}

/** A response of the txn in the simple format: OK for a put, the count for a delete, key and value lines for a get. */
function opSimple(op: ResponseOp, o: ByteOptions): Chunk[] {
  if (op.responsePut !== undefined) return ['OK\n']
  if (op.responseDeleteRange !== undefined) return [`${op.responseDeleteRange.deleted}\n`]
  if (op.responseTxn !== undefined) return [op.responseTxn.succeeded ? 'SUCCESS\n' : 'FAILURE\n']
  return (op.responseRange?.kvs ?? []).flatMap((kv) => [raw(kv.key, o), '\n', raw(kv.value, o), '\n'])
}

function opTable(op: ResponseOp, o: ByteOptions): string {
  if (op.responsePut !== undefined) return 'put: OK'
  if (op.responseTxn !== undefined) return `txn: ${op.responseTxn.succeeded ? 'SUCCEEDED' : 'FAILED'}`
  if (op.responseDeleteRange !== undefined) {
    const n = op.responseDeleteRange.deleted
    return `del: deleted ${n} ${n === 1 ? 'key' : 'keys'}`
  }
  const g = op.responseRange
  const line = `get: ${g?.count ?? 0} ${g?.count === 1 ? 'key' : 'keys'}`
  return g === undefined || g.kvs.length === 0 ? line : `${line}\n${kvTable(g.kvs, o, false)}`
}

/** The header of an operation inside a txn as etcd fills it: the revision only. */
const opHeader = (h: ResponseHeader | undefined): ResponseHeader => ({clusterId: 0n, memberId: 0n, revision: h?.revision ?? 0, raftTerm: 0})

/** An operation's response in the fields format, as etcdctl: its header (zero ids), then what it returned. */
function opFields(op: ResponseOp, o: ByteOptions): Field[] {
  const [, inner] = opEntry(op)
  const head = headerFields(opHeader((inner as {header?: ResponseHeader}).header))
  if (op.responsePut !== undefined) return head
  if (op.responseDeleteRange !== undefined) return [...head, ['Deleted', op.responseDeleteRange.deleted]]
  if (op.responseTxn !== undefined) return [...head, ['Succeeded', op.responseTxn.succeeded]]
  const g = op.responseRange
  return [...head, ...(g?.kvs ?? []).flatMap((kv) => kvFields(kv, o)), ['More', g?.more ?? false], ['Count', g?.count ?? 0]]
}

const OP_NAMES = {responseRange: 'ResponseRange', responsePut: 'ResponsePut', responseDeleteRange: 'ResponseDeleteRange', responseTxn: 'ResponseTxn'} as const

/** The one response an operation holds, with its name. */
function opEntry(op: ResponseOp): [keyof typeof OP_NAMES, object] {
  const found = (Object.keys(OP_NAMES) as Array<keyof typeof OP_NAMES>).find((k) => op[k] !== undefined) ?? 'responseRange'
  return [found, op[found] ?? {}]
}

/** An operation's response as etcdctl's JSON: wrapped in Go's oneof names, its header holding the revision only. */
function opJson(op: ResponseOp): unknown {
  const [name, inner] = opEntry(op)
  const header = (inner as {header?: ResponseHeader}).header
  return {Response: {[OP_NAMES[name]]: etcdJson({...inner, header: {revision: header?.revision ?? 0}})}}
}

export const txnView: View<TxnData> = {
  simple: (d) => [d.res.succeeded ? 'SUCCESS\n' : 'FAILURE\n', ...d.res.responses.flatMap((op) => ['\n', ...opSimple(op, d)])],
  table(d) {
    const head = d.res.succeeded ? 'SUCCEEDED: the compares held, the success operations ran' : 'FAILED: a compare did not hold, the failure operations ran'
    return [`${head} (revision ${d.res.header?.revision ?? 0})`, ...d.res.responses.map((op) => opTable(op, d))].join('\n')
  },
  fields: (d) => [...headerFields(d.res.header), ['Succeeded', d.res.succeeded], ...d.res.responses.flatMap((op) => opFields(op, d))],
  json: (d) => etcdJson({header: d.res.header, succeeded: d.res.succeeded, responses: d.res.responses.map(opJson)}),
}
