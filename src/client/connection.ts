/**
 * A connection to a cluster through a list of client endpoints. Keeps one gRPC client per
 * (service, endpoint), remembers which endpoint is the leader, and runs calls with the retry
 * rules of rpc.ts under one overall deadline.
 */
import {type Client, credentials, type ServiceError, status} from '@grpc/grpc-js'
import {type CallSpec, ClientError, invoke, isConnectFailure, isRetrySafe, leaderHint, toClientError} from './rpc.js'

/** A ts-proto grpc-js client constructor. */
export type ClientCtor<C extends Client> = new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => C

export interface ConnectionOptions {
  /** Overall time budget of one call, retries included. */
  readonly timeoutMs: number
}

const BACKOFF_MS = 100
const MAX_BACKOFF_MS = 800
/** Bounds the loop even with a generous deadline. */
const MAX_ATTEMPTS = 64

export class ClusterConnection {
  /** Clients by constructor, then endpoint (generated constructors all share one `name`). */
  private readonly clients = new Map<ClientCtor<Client>, Map<string, Client>>()
  private leader: string | undefined

  constructor(readonly endpoints: readonly string[], readonly options: ConnectionOptions) {
    if (endpoints.length === 0) throw new Error('no endpoints given')
  }

  /** The endpoint last seen to be the leader, if any. */
  get leaderEndpoint(): string | undefined {
    return this.leader
  }

  /** Returns (creating once) the client of `ctor`'s service at `endpoint`. */
  client<C extends Client>(ctor: ClientCtor<C>, endpoint: string): C {
    let byEndpoint = this.clients.get(ctor)
    if (byEndpoint === undefined) this.clients.set(ctor, byEndpoint = new Map())
    let c = byEndpoint.get(endpoint)
    if (c === undefined) {
      c = new ctor(endpoint, credentials.createInsecure())
      byEndpoint.set(endpoint, c)
    }
    return c as C
  }

  /** A deadline `timeoutMs` from now (or the given override). */
  deadline(timeoutMs = this.options.timeoutMs): Date {
    return new Date(Date.now() + timeoutMs)
  }

  /**
   * Runs a unary call against the cluster: the leader first when known, then each endpoint,
   * following leader hints and retrying per the rules in rpc.ts until the deadline.
   */
  async call<C extends Client, Req, Res>(ctor: ClientCtor<C>, spec: CallSpec<C, Req, Res>, timeoutMs?: number): Promise<Res> {
    const deadline = this.deadline(timeoutMs)
    const queue = this.leader === undefined ? [...this.endpoints] : [this.leader, ...this.endpoints.filter((e) => e !== this.leader)]
    let lastError: ClientError | undefined
    let backoff = BACKOFF_MS
    for (let attempt = 0; attempt < MAX_ATTEMPTS && queue.length > 0; attempt++) {
      const endpoint = queue.shift()!
      try {
        return await invoke(spec.method(this.client(ctor, endpoint)), spec.request, deadline)
      } catch (err) {
        const se = err as ServiceError
        lastError = toClientError(err, spec.what, endpoint)
        if (se.code === status.DEADLINE_EXCEEDED || Date.now() >= deadline.getTime()) throw lastError
        const hint = leaderHint(se)
        if (se.code === status.FAILED_PRECONDITION && hint !== undefined && hint !== endpoint) {
          this.leader = hint
          queue.unshift(hint)
          continue
        }
        if (isConnectFailure(se)) {
          if (this.leader === endpoint) this.leader = undefined
          continue
        }
        if (se.code === status.UNAVAILABLE && (spec.idempotent || isRetrySafe(se))) {
          await sleep(Math.min(backoff, Math.max(0, deadline.getTime() - Date.now())))
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)
          queue.push(endpoint)
          continue
        }
        throw lastError
      }
    }
    if (lastError !== undefined && this.endpoints.length > 1 && isUnreachable(lastError)) {
      throw new ClientError(status.UNAVAILABLE, `cannot reach any endpoint (${this.endpoints.join(', ')}): no raftctl server answers`)
    }
    throw lastError ?? new ClientError(status.UNAVAILABLE, `${spec.what} failed: no endpoint answered`)
  }

  /** Records the leader's endpoint (from a status answer). */
  setLeader(endpoint: string | undefined): void {
    this.leader = endpoint
  }

  /** Closes every channel. */
  close(): void {
    for (const byEndpoint of this.clients.values()) for (const c of byEndpoint.values()) c.close()
    this.clients.clear()
  }
}

function isUnreachable(err: ClientError): boolean {
  return err.code === status.UNAVAILABLE && /cannot reach/.test(err.message)
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
