/**
 * `raftctl endpoint status|health|hashkv` as etcdctl 3.4 prints them, and the one health check
 * that `cluster health` also runs. Each command asks every --endpoints entry on its own (no
 * failover: the answer is that endpoint's), through etcd's Maintenance service.
 *
 * Health is etcdctl's check: a linearizable read of the key "health" (a ReadIndex round that a
 * quorum must confirm); the endpoint is healthy when the read succeeds, whatever the key holds.
 * Simple output goes to stderr for health (as etcdctl's), stdout otherwise. Invariant: every
 * format renders the same answers; an endpoint that fails is a row with its error, never dropped.
 */
import type {RaftctlClient} from '../client/index.js'
import type {HashKVResponse, StatusResponse} from '../generated/etcd/etcdserverpb/maintenance.js'
import {describeError} from './errors.js'
import {BLANK_FIELD, type Chunk, etcdJson, type Field, type View} from './output.js'

/** One endpoint's etcd Status, or why it did not answer. */
export interface EndpointStatus {
  readonly endpoint: string
  readonly status?: StatusResponse
  readonly error?: string
}

/** One endpoint's health: the linearizable read's outcome and duration. */
export interface EndpointHealth {
  readonly endpoint: string
  readonly health: boolean
  /** How long the check took, in milliseconds. */
  readonly tookMs: number
  readonly error: string
}

/** One endpoint's HashKV, or why it did not answer. */
export interface EndpointHash {
  readonly endpoint: string
  readonly hash?: HashKVResponse
  readonly error?: string
}

/** The key etcdctl reads to check health. */
const HEALTH_KEY = 'health'

/** Runs `fn` on every endpoint at once, keeping --endpoints order. */
function each<T>(client: RaftctlClient, fn: (endpoint: string) => Promise<T>): Promise<T[]> {
  return Promise.all(client.endpoints.map(fn))
}

export function endpointStatuses(client: RaftctlClient): Promise<EndpointStatus[]> {
  return each(client, (endpoint) => client.etcdStatus(endpoint).then((status) => ({endpoint, status}), (err: Error) => ({endpoint, error: describeError(err)})))
}

export function endpointHashes(client: RaftctlClient, revision: number): Promise<EndpointHash[]> {
  return each(client, (endpoint) => client.hashKv(endpoint, revision).then((hash) => ({endpoint, hash}), (err: Error) => ({endpoint, error: describeError(err)})))
}

/** etcdctl's health check of one endpoint (see the module comment). */
export async function checkHealth(client: RaftctlClient, endpoint: string): Promise<EndpointHealth> {
  const start = performance.now()
  try {
    await client.range(HEALTH_KEY, {endpoint})
    return {endpoint, health: true, tookMs: performance.now() - start, error: ''}
  } catch (err) {
    return {endpoint, health: false, tookMs: performance.now() - start, error: describeError(err as Error)}
  }
}

export function endpointHealths(client: RaftctlClient): Promise<EndpointHealth[]> {
  return each(client, (endpoint) => checkHealth(client, endpoint))
}

/** A duration as Go's time.Duration prints it ("1.5ms", "2.000183s", "850µs"). */
export function goDuration(ms: number): string {
  const ns = Math.round(ms * 1e6)
  if (ns === 0) return '0s'
  const trim = (v: number, digits: number): string => v.toFixed(digits).replace(/\.?0+$/, '')
  if (ns < 1e3) return `${ns}ns`
  if (ns < 1e6) return `${trim(ns / 1e3, 3)}µs`
  if (ns < 1e9) return `${trim(ns / 1e6, 6)}ms`
  const s = ns / 1e9
  if (s < 60) return `${trim(s, 9)}s`
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  return `${h > 0 ? `${h}h` : ''}${m}m${trim(s % 60, 9)}s`
}

/** A byte count as go-humanize's Bytes prints it (SI units: "25 kB", "1.2 MB", "7 B"). */
export function humanBytes(n: number): string {
  if (n < 10) return `${n} B`
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB']
  const e = Math.min(Math.floor(Math.log(n) / Math.log(1000)), units.length - 1)
  const val = Math.floor((n / 1000 ** e) * 10 + 0.5) / 10
  return val < 10 ? `${val.toFixed(1)} ${units[e]}` : `${goRound(val)} ${units[e]}`
}

/** %.0f as Go prints it: halves round to even. */
function goRound(v: number): string {
  const f = Math.floor(v)
  const r = v - f === 0.5 ? (f % 2 === 0 ? f : f + 1) : Math.round(v)
  return String(r)
}

/** A table as etcdctl's tablewriter draws it: centred headers, right-aligned cells. */
export function etcdTable(head: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const rule = `+${w.map((n) => '-'.repeat(n + 2)).join('+')}+`
  const centre = (s: string, n: number): string => `${' '.repeat(Math.floor((n - s.length) / 2))}${s}${' '.repeat(Math.ceil((n - s.length) / 2))}`
  const line = (cells: readonly string[], f: (s: string, n: number) => string): string => `| ${cells.map((c, i) => f(c, w[i])).join(' | ')} |`
  return [rule, line(head, centre), rule, ...rows.map((r) => line(r, (s, n) => s.padStart(n))), rule].join('\n')
}

/** A 64-bit id as etcdctl prints it in simple and table output (%x). */
const hexId = (id: bigint | number | undefined): string => BigInt(id ?? 0).toString(16)

/** etcdctl's header lines of the fields format. */
function headerFields(h: StatusResponse['header']): Field[] {
  return [['ClusterID', h?.clusterId ?? 0n], ['MemberID', h?.memberId ?? 0n], ['Revision', h?.revision ?? 0], ['RaftTerm', h?.raftTerm ?? 0]]
}

/** A Go slice of strings as fmt.Println prints it: [a b]. */
const goSlice = (xs: readonly string[]): string => `[${xs.join(' ')}]`

/** etcd's StatusResponse in etcdctl's JSON: the header in snake_case, the rest in the proto's camelCase names. */
function statusJson(s: StatusResponse): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(s)) {
    const j = etcdJson({[k]: v}) as Record<string, unknown>
    if (Object.keys(j).length > 0) out[k] = Object.values(j)[0]
  }
  return out
}

const answered = <T extends {error?: string}>(xs: readonly T[]): T[] => xs.filter((x) => x.error === undefined)

/** etcdctl's stderr line for each endpoint that did not answer ("Failed to get the status of endpoint ..."). */
export function failedLines(xs: ReadonlyArray<{endpoint: string, error?: string}>, what: 'status' | 'hash'): string {
  return xs.filter((x) => x.error !== undefined).map((x) => `Failed to get the ${what} of endpoint ${x.endpoint} (${x.error})\n`).join('')
}

export const endpointStatusView: View<readonly EndpointStatus[]> = {
  simple: (xs) => answered(xs).map(({endpoint, status: s}): Chunk => `${statusRow(endpoint, s!).join(', ')}\n`),
  table: (xs) => etcdTable(['ENDPOINT', 'ID', 'VERSION', 'DB SIZE', 'IS LEADER', 'IS LEARNER', 'RAFT TERM', 'RAFT INDEX', 'RAFT APPLIED INDEX', 'ERRORS'],
    answered(xs).map(({endpoint, status: s}) => statusRow(endpoint, s!))),
  fields: (xs) => answered(xs).flatMap(({endpoint, status: s}): Field[] => [
    ...headerFields(s!.header), ['Version', s!.version], ['DBSize', s!.dbSize], ['DBSizeInUse', s!.dbSizeInUse], ['Leader', s!.leader],
    ['IsLearner', s!.isLearner], ['RaftIndex', s!.raftIndex], ['RaftTerm', s!.raftTerm], ['RaftAppliedIndex', s!.raftAppliedIndex],
    ['Errors', {raw: goSlice(s!.errors)}], ['Endpoint', endpoint], BLANK_FIELD,
  ]),
  json: (xs) => answered(xs).map(({endpoint, status: s}) => ({Endpoint: endpoint, Status: statusJson(s!)})),
}

function statusRow(endpoint: string, s: StatusResponse): string[] {
  const id = s.header?.memberId ?? 0n
  return [endpoint, hexId(id), s.version, humanBytes(s.dbSize), String(s.leader === id), String(s.isLearner), String(s.raftTerm),
    String(s.raftIndex), String(s.raftAppliedIndex), s.errors.join(', ')]
}

export const endpointHealthView: View<readonly EndpointHealth[]> = {
  simple: (xs) => xs.map((h) => h.health
    ? `${h.endpoint} is healthy: successfully committed proposal: took = ${goDuration(h.tookMs)}\n`
    : `${h.endpoint} is unhealthy: failed to commit proposal: ${h.error}\n`),
  table: (xs) => etcdTable(['ENDPOINT', 'HEALTH', 'TOOK', 'ERROR'], xs.map((h) => [h.endpoint, String(h.health), goDuration(h.tookMs), h.error])),
  fields: (xs) => xs.flatMap((h): Field[] => [['Endpoint', h.endpoint], ['Health', h.health], ['Took', {raw: goDuration(h.tookMs)}],
    ['Error', {raw: h.error}], BLANK_FIELD]),
  json: (xs) => xs.map((h) => ({endpoint: h.endpoint, health: h.health, took: goDuration(h.tookMs), ...(h.error === '' ? {} : {error: h.error})})),
}

export const endpointHashView: View<readonly EndpointHash[]> = {
  simple: (xs) => answered(xs).map((h): Chunk => `${h.endpoint}, ${h.hash!.hash}\n`),
  table: (xs) => etcdTable(['ENDPOINT', 'HASH'], answered(xs).map((h) => [h.endpoint, String(h.hash!.hash)])),
  fields: (xs) => answered(xs).flatMap((h): Field[] => [...headerFields(h.hash!.header), ['Endpoint', h.endpoint], ['Hash', h.hash!.hash], BLANK_FIELD]),
  json: (xs) => answered(xs).map((h) => ({Endpoint: h.endpoint, HashKV: etcdJson(h.hash)})),
}
