/**
 * Connecting the recipes to a cluster of several endpoints: EtcdClient talks to one endpoint, so
 * a caller that knows several (the CLI's --endpoints) picks the first that answers, trying each
 * in turn, as the rest of raftctl's client moves on from an unreachable endpoint.
 *
 * Invariant: the returned client's endpoint answered a LeaseLeases call (which needs a member
 * that can reach the cluster's leader) within the time given to it; an endpoint that refused the
 * connection, did not answer in time or answered UNAVAILABLE is skipped.
 */
import {Metadata, type ServiceError, status} from '@grpc/grpc-js'
import {EtcdClient, type EtcdClientOptions, isServiceError} from './etcd.js'
import {NoEndpointError} from './errors.js'

export interface ConnectOptions extends EtcdClientOptions {
  /** How long to try all endpoints, in milliseconds. */
  readonly timeoutMs: number
}

/** Statuses that say "this endpoint cannot serve now, try another". */
const SKIP = new Set<number>([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.UNIMPLEMENTED, status.CANCELLED])

/**
 * Returns a client of the first endpoint of `endpoints` that answers. Each endpoint gets an
 * equal share of `timeoutMs` (at least 500 ms) for one probe; the client is closed again when
 * its probe fails. Throws NoEndpointError naming every failure, or the first error that is not
 * about reachability (e.g. an authentication refusal), which no other endpoint would answer
 * differently.
 */
export async function connectEtcd(endpoints: readonly string[], opts: ConnectOptions): Promise<EtcdClient> {
  if (endpoints.length === 0) throw new NoEndpointError('no endpoint given')
  const share = Math.max(500, Math.floor(opts.timeoutMs / endpoints.length))
  const failures: string[] = []
  for (const endpoint of endpoints) {
    const client = new EtcdClient(endpoint, {...opts, callTimeoutMs: opts.callTimeoutMs ?? opts.timeoutMs})
    const err = await probe(client, share)
    if (err === undefined) return client
    client.close()
    if (!SKIP.has(err.code)) throw err
    failures.push(`${endpoint}: ${(err.details || err.message).replace(/\.? *Resolution note:.*$/, '')}`)
  }
  throw new NoEndpointError(`no endpoint answered within ${opts.timeoutMs} ms (${failures.join('; ')}); check --endpoints`)
}

/** One LeaseLeases call with a deadline `ms` from now; resolves with its error, if any. */
function probe(client: EtcdClient, ms: number): Promise<ServiceError | undefined> {
  return new Promise((resolve) => {
    client.leaseClient.leaseLeases({}, new Metadata(), {deadline: Date.now() + ms}, (err) => {
      resolve(err === null ? undefined : isServiceError(err) ? err : ({code: status.UNAVAILABLE, details: String(err), message: String(err)} as ServiceError))
    })
  })
}
