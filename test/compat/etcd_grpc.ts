/**
 * Our generated gRPC clients (src/generated/etcd) pointed at one endpoint, with a promise for a
 * unary call, the gRPC status of a failed one, a bounded Watch stream, and builders for the
 * requests the tests send. Used against a real etcd, every call also proves that our generated
 * code and etcd agree on the wire.
 */
import {credentials, Metadata, type ServiceError, status as Status} from '@grpc/grpc-js'
import {AuthClient} from '../../src/generated/etcd/etcdserverpb/auth.js'
import {ClusterClient} from '../../src/generated/etcd/etcdserverpb/cluster.js'
import {type DeleteRangeRequest, KVClient, type PutRequest, type RangeRequest} from '../../src/generated/etcd/etcdserverpb/kv.js'
import {LeaseClient} from '../../src/generated/etcd/etcdserverpb/lease.js'
import {MaintenanceClient} from '../../src/generated/etcd/etcdserverpb/maintenance.js'
import {WatchClient, type WatchRequest, type WatchResponse} from '../../src/generated/etcd/etcdserverpb/watch.js'

/** One client per etcd service, all on `endpoint` (host:port). */
export function etcdClients(endpoint: string): {
  kv: KVClient, watch: WatchClient, lease: LeaseClient, cluster: ClusterClient, maintenance: MaintenanceClient, auth: AuthClient,
  close(): void,
} {
  const creds = credentials.createInsecure()
  const all = {
    kv: new KVClient(endpoint, creds), watch: new WatchClient(endpoint, creds), lease: new LeaseClient(endpoint, creds),
    cluster: new ClusterClient(endpoint, creds), maintenance: new MaintenanceClient(endpoint, creds), auth: new AuthClient(endpoint, creds),
  }
  return {...all, close: () => { for (const c of Object.values(all)) c.close() }}
}

type Unary<Req, Res> = (req: Req, md: Metadata, opts: {deadline: Date}, cb: (err: ServiceError | null, res: Res) => void) => unknown

/**
 * Calls a unary method of a generated client (`call(c.kv, c.kv.put, {...})`) with a deadline
 * and optional metadata (for example {hasleader: 'true'}, which etcd's require-leader check reads).
 */
export function call<C, Req, Res>(client: C, method: Unary<Req, Res>, req: Req, md: Record<string, string> = {}, deadlineMs = 5000): Promise<Res> {
  const metadata = new Metadata()
  for (const [k, v] of Object.entries(md)) metadata.set(k, v)
  return new Promise((resolve, reject) => {
    method.call(client, req, metadata, {deadline: new Date(Date.now() + deadlineMs)}, (err, res) => err ? reject(err) : resolve(res))
  })
}

/** A gRPC failure as etcd clients see it: the status name (e.g. "OUT_OF_RANGE") and the details text. */
export interface GrpcFailure {
  readonly code: string
  readonly details: string
}

/** Awaits `p`, which must fail with a gRPC status; returns that status. */
export async function failureOf(p: Promise<unknown>): Promise<GrpcFailure> {
  try {
    await p
  } catch (err) {
    const e = err as Partial<ServiceError>
    if (typeof e.code !== 'number') throw err
    return {code: Status[e.code], details: e.details ?? ''}
  }
  throw new Error('the call succeeded where a gRPC error was expected')
}

const bytes = (s: string): Buffer => Buffer.from(s)

/** A PutRequest of `key` = `value` with every other field at its default unless given. */
export function putReq(key: string, value = 'v', extra: Partial<PutRequest> = {}): PutRequest {
  return {key: bytes(key), value: bytes(value), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false, ...extra}
}

/** A RangeRequest of `key` (one key unless rangeEnd is given), latest revision, no options. */
export function rangeReq(key: string, extra: Partial<RangeRequest> = {}): RangeRequest {
  return {key: bytes(key), rangeEnd: bytes(''), limit: 0, revision: 0, sortOrder: 0, sortTarget: 0, serializable: false, keysOnly: false,
    countOnly: false, minModRevision: 0, maxModRevision: 0, minCreateRevision: 0, maxCreateRevision: 0, ...extra}
}

export function deleteReq(key: string, rangeEnd = ''): DeleteRangeRequest {
  return {key: bytes(key), rangeEnd: bytes(rangeEnd), prevKv: false}
}

/** A WatchRequest creating a watch on `key` from `startRevision` (0: from now on). */
export function watchCreate(key: string, startRevision = 0): WatchRequest {
  return {createRequest: {key: bytes(key), rangeEnd: bytes(''), startRevision, progressNotify: false, filters: [], prevKv: false, watchId: 0n, fragment: false}}
}

/**
 * Opens a Watch stream (with `md` as its metadata), sends the requests in order, and collects
 * what comes back for `ms` milliseconds; then cancels the stream. Returns the responses and the
 * stream's error status, if it ended with one other than the cancellation.
 */
export async function watchFor(client: WatchClient, reqs: WatchRequest | readonly WatchRequest[], ms: number, md: Record<string, string> = {}): Promise<{responses: WatchResponse[], error?: GrpcFailure}> {
  const metadata = new Metadata()
  for (const [k, v] of Object.entries(md)) metadata.set(k, v)
  const stream = client.watch(metadata)
  const responses: WatchResponse[] = []
  let error: GrpcFailure | undefined
  stream.on('data', (r: WatchResponse) => responses.push(r))
  stream.on('error', (err: ServiceError) => {
    if (err.code !== Status.CANCELLED) error = {code: Status[err.code], details: err.details}
  })
  for (const req of Array.isArray(reqs) ? reqs : [reqs]) stream.write(req)
  await new Promise((resolve) => setTimeout(resolve, ms))
  stream.cancel()
  return error === undefined ? {responses} : {responses, error}
}
