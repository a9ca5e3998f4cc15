/**
 * How the lease commands print, in etcdctl's formats (src/cli/output.ts): simple is etcdctl's
 * sentences ("lease 694d77aa9e38260f granted with TTL(60s)"), json is etcdctl's JSON (its header
 * fields flattened, ids as decimal integers, exact even above 2^53), fields is etcdctl's
 * `"Name" : value` lines. etcdctl has no table for leases; raftctl's table shows the same facts.
 */
import type {ResponseHeader} from '../generated/etcd/etcdserverpb/header.js'
import type {
  LeaseGrantResponse, LeaseKeepAliveResponse, LeaseLeasesResponse, LeaseRevokeResponse, LeaseTimeToLiveResponse,
} from '../generated/etcd/etcdserverpb/lease.js'
import {leaseIdText} from './coord.js'
import {emit, type Field, type View, type WriteOut, writeRaw} from './output.js'
import {renderTable} from './table.js'

const NO_HEADER: ResponseHeader = {clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0}

/**
 * JSON text in which bigints are written as plain integers, as Go writes int64 and uint64 (JSON.stringify
 * refuses bigints, and a number above 2^53 would lose digits).
 */
export function goJson(v: unknown): string {
  const marked = JSON.stringify(v, (_k, x: unknown) => typeof x === 'bigint' ? `\u0000big:${x}` : x)
  return marked.replace(/"\\u0000big:(-?\d+)"/g, '$1')
}

/** The header as etcdctl's JSON flattens it into a response (fields omitted when zero). */
function headerJson(h: ResponseHeader | undefined): Record<string, bigint | number> {
  const x = h ?? NO_HEADER
  const out: Record<string, bigint | number> = {}
  if (x.clusterId !== 0n) out.cluster_id = x.clusterId
  if (x.memberId !== 0n) out.member_id = x.memberId
  if (x.revision !== 0) out.revision = x.revision
  if (x.raftTerm !== 0) out.raft_term = x.raftTerm
  return out
}

function headerFields(h: ResponseHeader | undefined): Field[] {
  const x = h ?? NO_HEADER
  return [['ClusterID', x.clusterId], ['MemberID', x.memberId], ['Revision', x.revision], ['RaftTerm', x.raftTerm]]
}

/** A View whose json() may hold bigints; print it with emitLease. */
export type LeaseView<D> = View<D>

/** Prints `d` in `format`; json through goJson (exact ids), the others as output.ts's emit. */
export function emitLease<D>(format: WriteOut, view: LeaseView<D>, d: D): void {
  if (format === 'json') writeRaw([goJson(view.json(d)), '\n'])
  else emit(format, view, d)
}

export const grantView: LeaseView<LeaseGrantResponse> = {
  simple: (r) => [`lease ${leaseIdText(r.ID)} granted with TTL(${r.TTL}s)\n`],
  table: (r) => renderTable(['LEASE', 'TTL'], [[leaseIdText(r.ID), `${r.TTL}s`]]),
  fields: (r) => [...headerFields(r.header), ['ID', r.ID], ['TTL', r.TTL]],
  json: (r) => ({...headerJson(r.header), ID: r.ID, TTL: r.TTL, Error: r.error}),
}

/** A revoke with the id it revoked (the response does not carry it). */
export interface RevokeData {
  readonly id: bigint
  readonly res: LeaseRevokeResponse
}

export const revokeView: LeaseView<RevokeData> = {
  simple: (d) => [`lease ${leaseIdText(d.id)} revoked\n`],
  table: (d) => renderTable(['LEASE', 'REVOKED AT REVISION'], [[leaseIdText(d.id), d.res.header?.revision ?? 0]]),
  fields: (d) => headerFields(d.res.header),
  json: (d) => ({header: headerJson(d.res.header)}),
}

/** A TimeToLive answer and whether the keys were asked for. */
export interface TimeToLiveData {
  readonly res: LeaseTimeToLiveResponse
  readonly keys: boolean
}

/** True when the answer says the lease does not exist (etcd answers TTL -1 and granted TTL 0). */
export const leaseGone = (r: LeaseTimeToLiveResponse): boolean => r.grantedTTL === 0 && r.TTL === -1

const keyText = (k: Uint8Array): string => Buffer.from(k).toString('utf8')

export const timeToLiveView: LeaseView<TimeToLiveData> = {
  simple: ({res: r, keys}) => {
    if (leaseGone(r)) return [`lease ${leaseIdText(r.ID)} already expired\n`]
    const txt = `lease ${leaseIdText(r.ID)} granted with TTL(${r.grantedTTL}s), remaining(${r.TTL}s)`
    return [keys ? `${txt}, attached keys([${r.keys.map(keyText).join(' ')}])\n` : `${txt}\n`]
  },
  table: ({res: r, keys}) => leaseGone(r)
    ? renderTable(['LEASE', 'STATE'], [[leaseIdText(r.ID), 'expired or revoked']])
    : renderTable(['LEASE', 'GRANTED TTL', 'REMAINING', ...(keys ? ['KEYS'] : [])],
      [[leaseIdText(r.ID), `${r.grantedTTL}s`, `${r.TTL}s`, ...(keys ? [r.keys.map(keyText).join(', ')] : [])]]),
  fields: ({res: r}) => [...headerFields(r.header), ['ID', r.ID], ['TTL', r.TTL], ['GrantedTTL', r.grantedTTL],
    ...r.keys.map((k): Field => ['Key', k])],
  json: ({res: r}) => ({
    ...headerJson(r.header), id: r.ID, ttl: r.TTL, 'granted-ttl': r.grantedTTL,
    keys: r.keys.length === 0 ? null : r.keys.map((k) => Buffer.from(k).toString('base64')),
  }),
}

export const leasesView: LeaseView<LeaseLeasesResponse> = {
  simple: (r) => [`found ${r.leases.length} leases\n`, ...r.leases.map((l) => `${leaseIdText(l.ID)}\n`)],
  table: (r) => renderTable(['LEASE'], r.leases.map((l) => [leaseIdText(l.ID)])),
  fields: (r) => [...headerFields(r.header), ...r.leases.map((l): Field => ['ID', l.ID])],
  json: (r) => ({...headerJson(r.header), leases: r.leases.map((l) => ({id: l.ID}))}),
}

export const keepAliveView: LeaseView<LeaseKeepAliveResponse> = {
  simple: (r) => [`lease ${leaseIdText(r.ID)} keepalived with TTL(${r.TTL})\n`],
  table: (r) => renderTable(['LEASE', 'TTL'], [[leaseIdText(r.ID), `${r.TTL}s`]]),
  fields: (r) => [...headerFields(r.header), ['ID', r.ID], ['TTL', r.TTL]],
  json: (r) => ({...headerJson(r.header), ID: r.ID, TTL: r.TTL}),
}
