/**
 * For the Lock and Election service tests: our services on a free 127.0.0.1 port, backed by a
 * real etcd (the inner client of recipes.ts pointed at etcd's client port), and a transcript of a
 * scenario's answers normalized so that the same scenario run against etcd's own services and
 * against ours compares equal: ids masked, lease ids and the scenario's name replaced by
 * placeholders, revisions counted from the scenario's start, and the client-side text of a
 * DEADLINE_EXCEEDED left out.
 */
import {Server, ServerCredentials, type ServiceError, status as Status} from '@grpc/grpc-js'
import {EtcdClient} from '../../src/client/concurrency/index.js'
import {registerElectionService} from '../../src/server/services/etcd/election.js'
import {registerLockService} from '../../src/server/services/etcd/lock.js'
import {type RecipeServices} from '../../src/server/services/etcd/recipes.js'
import {oldestUnder} from '../../src/client/concurrency/etcd.js'
import {waitFor} from '../integration/harness.js'

/** Our Lock and Election services, their inner client connected to `etcdEndpoint`. */
export class RecipeTestServer {
  readonly server = new Server()
  private handles: RecipeServices[] = []
  private port = 0

  static async start(etcdEndpoint: string): Promise<RecipeTestServer> {
    const s = new RecipeTestServer()
    const connect = (): EtcdClient => new EtcdClient(etcdEndpoint)
    s.handles = [registerLockService(s.server, connect), registerElectionService(s.server, connect)]
    s.port = await new Promise<number>((resolve, reject) => s.server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(),
      (err, port) => (err === null ? resolve(port) : reject(err))))
    return s
  }

  get endpoint(): string {
    return `127.0.0.1:${this.port}`
  }

  close(): void {
    for (const h of this.handles) h.close()
    this.server.forceShutdown()
  }
}

/** One step of a transcript: what was asked, and the answer or the gRPC failure. */
export type Step = readonly [string, unknown]

/** Runs `p` and records its answer or failure under `what`. */
export async function record(t: Step[], what: string, p: Promise<unknown>): Promise<void> {
  try {
    t.push([what, await p])
  } catch (err) {
    const e = err as Partial<ServiceError>
    if (typeof e.code !== 'number') throw err
    t.push([what, {code: Status[e.code], details: e.code === Status.DEADLINE_EXCEEDED ? '<client deadline>' : e.details}])
  }
}

/** Waits (bounded) until exactly `n` keys are under `<name>/`. */
export function waitKeys(client: EtcdClient, name: string, n: number): Promise<unknown> {
  return waitFor(`${n} keys under ${name}/`, async () => {
    const res = await client.range({...oldestUnder(Buffer.from(`${name}/`)), limit: 0})
    return res.kvs.length === n
  }, {timeoutMs: 10_000, intervalMs: 20})
}

const REVISION_FIELDS = new Set(['revision', 'rev', 'createRevision', 'modRevision'])
const ID_FIELDS = new Set(['clusterId', 'memberId'])

/**
 * Normalizes a transcript: bytes become text with `name` replaced by <name> and every lease id
 * in hex by <lease:N> (numbered by first appearance); lease ids as numbers likewise; cluster and
 * member ids become 'set'/'unset'; revisions are counted from `base`.
 */
export function normalize(t: readonly Step[], name: string, base: number): unknown {
  const leases = new Map<string, string>()
  const lease = (hex: string): string => {
    if (!leases.has(hex)) leases.set(hex, `<lease:${leases.size + 1}>`)
    return leases.get(hex)!
  }
  const str = (s: string): string => s.split(name).join('<name>').replace(/\/([0-9a-f]{8,16})$/, (_, hex: string) => `/${lease(hex)}`)
  const walk = (v: unknown, field = ''): unknown => {
    if (v instanceof Uint8Array) return str(Buffer.from(v).toString())
    if (typeof v === 'bigint') return ID_FIELDS.has(field) ? (v === 0n ? 'unset' : 'set') : lease(v.toString(16))
    if (typeof v === 'number' && REVISION_FIELDS.has(field)) return v === 0 ? 0 : v - base
    if (typeof v === 'string') return str(v)
    if (Array.isArray(v)) return v.map((x) => walk(x))
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]))
    return v
  }
  return t.map(([what, answer]) => [what, walk(answer)])
}
