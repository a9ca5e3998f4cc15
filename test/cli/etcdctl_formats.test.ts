/**
 * raftctl prints the simple, json and fields formats as etcdctl does: the views of `kv get`,
 * `kv txn` and `kv watch` (src/cli/kv_output.ts) render the very responses that etcdctl 3.4
 * printed in test/compat/fixtures/etcdctl (recorded from a real etcd by the compat tests), and
 * the output must be etcdctl's; so do `endpoint status|health|hashkv` (src/cli/endpoint.ts). The deliberate differences (docs/etcd-compatibility.md §3) are
 * left out here: no "Lease" fields until raftctl has leases, keys-only without blank lines, and
 * --print-value-only without a newline after the last value.
 */
import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {
  endpointHashView, endpointHealthView, endpointStatusView, etcdTable, goDuration, humanBytes,
} from '../../src/cli/endpoint.js'
import {getView, txnView, watchView} from '../../src/cli/kv_output.js'
import type {Chunk} from '../../src/cli/output.js'
import {fieldLine} from '../../src/cli/output.js'
import type {ResponseHeader} from '../../src/generated/etcd/etcdserverpb/header.js'
import type {RangeResponse, TxnResponse} from '../../src/generated/etcd/etcdserverpb/kv.js'
import {Event_EventType, type KeyValue} from '../../src/generated/etcd/mvccpb/kv.js'
import {parseDataDriven, type TestData} from '../harness/datadriven.js'
import {REPO_ROOT} from '../integration/harness.js'

const FIXTURES = join(REPO_ROOT, 'test', 'compat', 'fixtures', 'etcdctl')
const CLUSTER_ID = 1111
const MEMBER_ID = 2222

/**
 * The recorded output of `etcdctl <line>` in a fixture file (the `nth` case with that line), with
 * the id placeholders as numbers.
 */
function recorded(file: string, line: string, nth = 0, placeholders: 'ids' | 'raw' = 'ids'): string {
  const cases = parseDataDriven(readFileSync(join(FIXTURES, file), 'utf8'), file).cases.map((c) => c.td)
  const argv = (td: TestData): string => [td.cmd, ...td.args.map((a) => a.vals.length === 0 ? a.key : `${a.key}=${a.vals.join(',')}`)].join(' ')
  const found = cases.filter((td) => argv(td) === line)[nth]
  if (found === undefined) throw new Error(`no case "${line}" (#${nth}) in ${file}`)
  if (placeholders === 'raw') return found.expected
  return found.expected.replaceAll('<CLUSTER_ID>', String(CLUSTER_ID)).replaceAll('<ID:e1>', String(MEMBER_ID))
}

const text = (chunks: readonly Chunk[]): string => Buffer.concat(chunks.map((c) => Buffer.from(c))).toString('utf8')
const t = (s: string): Uint8Array => new TextEncoder().encode(s)
const header = (revision: number): ResponseHeader => ({clusterId: BigInt(CLUSTER_ID), memberId: BigInt(MEMBER_ID), revision, raftTerm: 2})
const withoutLease = (s: string): string => s.split('\n').filter((l) => !/^"(Prev)?Lease" : /.test(l)).join('\n')

/** A RangeResponse from etcdctl's JSON of it. */
function rangeFromJson(json: string): RangeResponse {
  const r = JSON.parse(json) as {header: {revision: number}, kvs?: Array<Record<string, string | number>>, more?: boolean, count?: number}
  // Fields in the order of the generated KeyValue (the proto's), as decoded responses have them.
  const kvs = (r.kvs ?? []).map((kv): KeyValue => ({
    key: Buffer.from(String(kv.key), 'base64'), createRevision: Number(kv.create_revision ?? 0), modRevision: Number(kv.mod_revision ?? 0),
    version: Number(kv.version ?? 0), value: Buffer.from(String(kv.value ?? ''), 'base64'), lease: 0n,
  }))
  return {header: header(r.header.revision), kvs, more: r.more ?? false, count: r.count ?? 0}
}

const getData = (res: RangeResponse) => ({res, what: '', hex: false, keysOnly: false, countOnly: false, printValueOnly: false, tty: false})

describe('kv output formats are etcdctl\'s (recorded from etcd 3.4)', () => {
  it('get: json is the same object, fields the same lines, simple key and value lines', () => {
    const json = recorded('kv.txt', 'etcdctl -w json get --prefix cfg/ --limit=2').trim()
    const res = rangeFromJson(json)
    expect(JSON.stringify(getView.json(getData(res)))).to.equal(json)
    expect(getView.fields(getData(res)).map(fieldLine).join('')).to.equal(withoutLease(recorded('kv.txt', 'etcdctl -w fields get --prefix cfg/ --limit=2')))
    const missing = recorded('kv.txt', 'etcdctl -w json get missing').trim()
    expect(JSON.stringify(getView.json(getData(rangeFromJson(missing))))).to.equal(missing)
    expect(getView.fields(getData(rangeFromJson(missing))).map(fieldLine).join('')).to.equal(recorded('kv.txt', 'etcdctl -w fields get missing'))
    const four = {...res, kvs: [['cfg/a', '11'], ['cfg/b', '22'], ['cfg/c', '333'], ['cfg/d', '4']].map(([k, v]) => ({...res.kvs[0], key: t(k), value: t(v)}))}
    expect(text(getView.simple(getData(four)))).to.equal(recorded('kv.txt', 'etcdctl get --prefix cfg/'))
  })

  it('txn: SUCCESS/FAILURE and each operation in simple; etcdctl\'s json with Go\'s oneof names; fields with a header per operation', () => {
    const failed: TxnResponse = {header: header(17), succeeded: false, responses: [
      {responseRange: {header: header(17), kvs: [{key: t('lock'), createRevision: 1, modRevision: 1, version: 1, value: t('taken'), lease: 0n}], more: false, count: 1}},
      {responseDeleteRange: {header: header(17), deleted: 1, prevKvs: []}},
    ]}
    // The second recorded `etcdctl txn`: its compare failed, the failure operations (get lock, del lock) ran.
    expect(text(txnView.simple({res: failed, hex: false}))).to.equal(recorded('kv.txt', 'etcdctl txn', 1))
    const json = recorded('kv.txt', 'etcdctl -w json txn').trim()
    const j = JSON.parse(json) as {header: {revision: number}, responses: Array<{Response: {ResponseRange?: {kvs: unknown[]}}}>}
    const range = rangeFromJson(JSON.stringify(j.responses[1].Response.ResponseRange))
    const succeeded: TxnResponse = {header: header(j.header.revision), succeeded: true, responses: [
      {responsePut: {header: header(j.header.revision), prevKv: undefined}}, {responseRange: range},
    ]}
    expect(JSON.stringify(txnView.json({res: succeeded, hex: false}))).to.equal(json)
    const delGet: TxnResponse = {header: header(19), succeeded: true, responses: [
      {responseDeleteRange: {header: header(19), deleted: 1, prevKvs: []}}, {responseRange: {header: header(19), kvs: [], more: false, count: 0}},
    ]}
    expect(txnView.fields({res: delGet, hex: false}).map(fieldLine).join('')).to.equal(recorded('kv.txt', 'etcdctl -w fields txn'))
  })

  it('watch: PUT or DELETE, key and value lines in simple (a DELETE\'s value line empty)', () => {
    const kv = (k: string, v: string, create: number, mod: number, version: number): KeyValue =>
      ({key: t(k), createRevision: create, modRevision: mod, version, value: t(v), lease: 0n})
    const batches = [
      {revision: 2, events: [{type: Event_EventType.PUT, kv: kv('cfg/a', '1', 2, 2, 1), prevKv: undefined}]},
      {revision: 3, events: [{type: Event_EventType.PUT, kv: kv('cfg/a', '2', 2, 3, 2), prevKv: undefined}]},
      {revision: 4, events: [{type: Event_EventType.PUT, kv: kv('cfg/b', '1', 4, 4, 1), prevKv: undefined}]},
      {revision: 5, events: [{type: Event_EventType.DELETE, kv: kv('cfg/a', '', 0, 5, 0), prevKv: undefined}]},
    ]
    const out = batches.map((b) => text(watchView.simple({...b, hex: false}))).join('')
    expect(out).to.equal(recorded('watch.txt', 'etcdctl lines=12 watch --prefix cfg/ --rev=2'))
    const events = (JSON.parse(recorded('watch.txt', 'etcdctl lines=1 -w json watch --prefix cfg/ --rev=2')) as {Events: unknown[]}).Events
    expect(batches.flatMap((b) => (watchView.json({...b, hex: false}) as {Events: unknown[]}).Events), 'the same events').to.deep.equal(events)
  })
})


describe('endpoint status, health and hashkv print as etcdctl (recorded from etcd 3.4)', () => {
  const ep = '127.0.0.1:2379'
  const status = {
    header: header(1), version: '3.4.99', dbSize: 24_576, leader: BigInt(MEMBER_ID), raftIndex: 5, raftTerm: 2, raftAppliedIndex: 5,
    errors: [], dbSizeInUse: 24_576, isLearner: false,
  }
  /** The recorded text with the placeholders of values as this test's response has them. */
  const fill = (s: string, id: string): string => s.replaceAll(String(MEMBER_ID), id).replaceAll('127.0.0.1:<CLIENT_PORT:e1>', ep)
    .replaceAll('<VERSION>', status.version).replaceAll('<RAFT_INDEX>', '5')

  it('draws tables as etcdctl\'s tablewriter: centred headers, right-aligned cells', () => {
    const table = recorded('maintenance.txt', 'etcdctl -w table endpoint status', 0, 'raw').trimEnd()
    const cells = ['127.0.0.1:<CLIENT_PORT:e1>', '<ID:e1>', '<VERSION>', '<DB_SIZE>', 'true', 'false', '2', '<RAFT_INDEX>', '<RAFT_INDEX>', '']
    expect(etcdTable(['ENDPOINT', 'ID', 'VERSION', 'DB SIZE', 'IS LEADER', 'IS LEARNER', 'RAFT TERM', 'RAFT INDEX', 'RAFT APPLIED INDEX', 'ERRORS'],
      [cells])).to.equal(table)
    const members = recorded('cluster.txt', 'etcdctl -w table member list', 1, 'raw').trimEnd()
    expect(etcdTable(['ID', 'STATUS', 'NAME', 'PEER ADDRS', 'CLIENT ADDRS', 'IS LEARNER'], [
      ['<ID:e1>', 'started', 'e1', 'http://127.0.0.1:<PEER_PORT:e1>', 'http://127.0.0.1:<CLIENT_PORT:e1>', 'false'],
      ['<ID:m1>', 'unstarted', '', 'http://127.0.0.1:1', '', 'true'],
    ])).to.equal(members)
  })

  it('status: the simple line (id in hex, size in SI units), json with etcd\'s field names, a table of the same cells', () => {
    const xs = [{endpoint: ep, status}]
    const simple = fill(recorded('maintenance.txt', 'etcdctl endpoint status'), MEMBER_ID.toString(16)).replaceAll('<DB_SIZE>', '25 kB')
    expect(text(endpointStatusView.simple(xs))).to.equal(simple)
    const json = fill(recorded('maintenance.txt', 'etcdctl -w json endpoint status'), String(MEMBER_ID)).replaceAll('<DB_SIZE>', '24576').trim()
    expect(JSON.stringify(endpointStatusView.json(xs))).to.equal(json)
    const row = endpointStatusView.table(xs).split('\n')[3].split('|').slice(1, -1).map((c) => c.trim())
    expect(row, 'the simple line\'s cells').to.deep.equal(simple.slice(0, -1).split(', '))
    expect(endpointStatusView.simple([{endpoint: 'down:1', error: 'cannot reach down:1'}]), 'a failed endpoint prints no row').to.deep.equal([])
  })

  it('health: etcdctl\'s line with Go\'s duration, and its json', () => {
    const xs = [{endpoint: ep, health: true, tookMs: 2.5, error: ''}]
    const line = recorded('maintenance.txt', 'etcdctl endpoint health').replace(/^stderr: /, '')
    expect(text(endpointHealthView.simple(xs))).to.equal(fill(line, '').replace('<DURATION>', '2.5ms'))
    const json = fill(recorded('maintenance.txt', 'etcdctl -w json endpoint health'), '').replace('<DURATION>', '2.5ms').trim()
    expect(JSON.stringify(endpointHealthView.json(xs))).to.equal(json)
    expect(text(endpointHealthView.simple([{endpoint: ep, health: false, tookMs: 1, error: 'no leader'}])))
      .to.equal(`${ep} is unhealthy: failed to commit proposal: no leader\n`)
  })

  it('hashkv: endpoint and hash in simple, the response in json, a two-column table', () => {
    const xs = [{endpoint: ep, hash: {header: header(2), hash: 3658645045, compactRevision: -1}}]
    expect(text(endpointHashView.simple(xs))).to.equal(fill(recorded('maintenance.txt', 'etcdctl endpoint hashkv'), ''))
    expect(JSON.stringify(endpointHashView.json(xs))).to.equal(fill(recorded('maintenance.txt', 'etcdctl -w json endpoint hashkv'), String(MEMBER_ID)).trim())
    const table = recorded('maintenance.txt', 'etcdctl -w table endpoint hashkv', 0, 'raw').trimEnd()
    expect(endpointHashView.table([{...xs[0], endpoint: '127.0.0.1:<CLIENT_PORT:e1>'}])).to.equal(table)
  })

  it('prints sizes and durations as go-humanize and Go\'s time.Duration do', () => {
    expect([5, 999, 24_576, 1_500_000, 20_500].map(humanBytes)).to.deep.equal(['5 B', '999 B', '25 kB', '1.5 MB', '20 kB'])
    expect([0.0004, 0.25, 2.5, 1234.5678, 61_000].map(goDuration)).to.deep.equal(['400ns', '250µs', '2.5ms', '1.2345678s', '1m1s'])
  })
})
