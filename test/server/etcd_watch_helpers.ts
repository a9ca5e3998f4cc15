/**
 * For the Watch service tests: the service over an in-memory store on a free 127.0.0.1 port (the
 * client tests' FakeGrpcServer), a probe that records what a Watch stream answers, and request
 * builders. The same probe drives a real etcd in the differential test.
 */
import {credentials, Metadata, type ServiceError, status as Status} from '@grpc/grpc-js'
import type {ResponseHeader} from '../../src/generated/etcd/etcdserverpb/header.js'
import {
  type WatchCreateRequest, WatchClient, type WatchRequest, type WatchResponse, WatchService,
} from '../../src/generated/etcd/etcdserverpb/watch.js'
import {WatchHub, type WatchHubOptions} from '../../src/kv/watch/index.js'
import {watchService, type WatchServiceOptions} from '../../src/server/services/etcd/watch.js'
import {FakeGrpcServer} from '../client/fake_server.js'
import {waitFor} from '../integration/harness.js'
import {FakeSource} from '../kv/watch/fake_source.js'

/** A fixed header: ids that take ten bytes on the wire like real random ones. */
export const TEST_HEADER = {clusterId: 0xfeedfacecafebeefn, memberId: 0x8badf00ddeadbeefn, raftTerm: 3}

export class WatchTestServer extends FakeGrpcServer {
  private constructor(readonly src: FakeSource, readonly hub: WatchHub) {
    super()
  }

  /** Starts the service over a new in-memory store (revision 1, as a new etcd). */
  static async start(opts: Partial<WatchServiceOptions> = {}, hubOpts: WatchHubOptions = {},
    header: Omit<ResponseHeader, 'revision'> = TEST_HEADER): Promise<WatchTestServer> {
    const src = new FakeSource()
    const hub = new WatchHub(src, hubOpts)
    src.hub = hub
    const s = new WatchTestServer(src, hub)
    await s.serve(WatchService, watchService({hub, header: (revision) => ({...header, revision}), ...opts}) as unknown as Record<string, unknown>)
    return s
  }
}

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'))

/** A create request of `key` with every other field at its default unless given. */
export function createReq(key: string, extra: Partial<Omit<WatchCreateRequest, 'key' | 'rangeEnd'>> & {rangeEnd?: string} = {}): WatchRequest {
  const {rangeEnd, ...rest} = extra
  return {createRequest: {key: bytes(key), rangeEnd: bytes(rangeEnd ?? ''), startRevision: 0, progressNotify: false, filters: [],
    prevKv: false, watchId: 0n, fragment: false, ...rest}}
}

export const cancelReq = (watchId: bigint): WatchRequest => ({cancelRequest: {watchId}})
export const progressReq = (): WatchRequest => ({progressRequest: {}})

/** Records every answer of one Watch stream. */
export class WatchProbe {
  readonly responses: WatchResponse[] = []
  error: {code: string, details: string} | undefined
  ended = false
  readonly client: WatchClient
  readonly stream: ReturnType<WatchClient['watch']>

  constructor(endpoint: string, md: Record<string, string> = {}) {
    this.client = new WatchClient(endpoint, credentials.createInsecure())
    const metadata = new Metadata()
    for (const [k, v] of Object.entries(md)) metadata.set(k, v)
    this.stream = this.client.watch(metadata)
    this.stream.on('data', (r: WatchResponse) => this.responses.push(r))
    this.stream.on('error', (err: ServiceError) => {
      if (err.code !== Status.CANCELLED) this.error = {code: Status[err.code], details: err.details}
    })
    this.stream.on('end', () => { this.ended = true })
  }

  send(...reqs: WatchRequest[]): void {
    for (const r of reqs) this.stream.write(r)
  }

  /** Waits (bounded) until `pred` holds for the answers so far. */
  async until(what: string, pred: (rs: readonly WatchResponse[]) => boolean, timeoutMs = 10_000): Promise<void> {
    await waitFor(what, () => pred(this.responses), {timeoutMs, intervalMs: 5})
  }

  /** Waits (bounded) until `n` answers have come. */
  count(n: number, timeoutMs = 10_000): Promise<void> {
    return this.until(`${n} watch responses`, (rs) => rs.length >= n, timeoutMs)
  }

  /** Waits until the stream has failed or ended (bounded). */
  async closed(timeoutMs = 10_000): Promise<void> {
    await waitFor('the watch stream to end', () => this.error !== undefined || this.ended, {timeoutMs, intervalMs: 5})
  }

  close(): void {
    this.stream.cancel()
    this.client.close()
  }
}

/** An answer without header ids, term and per-event bytes: `id/created/canceled/...: rev events`. */
export function summarize(r: WatchResponse): string {
  const flags = [r.created && 'created', r.canceled && 'canceled', r.fragment && 'fragment'].filter(Boolean).join(',')
  const extra = [r.compactRevision !== 0 && `compact=${r.compactRevision}`, r.cancelReason !== '' && `reason=${r.cancelReason}`].filter(Boolean)
  const events = r.events.map((e) => `${e.type === 0 ? 'PUT' : 'DEL'} ${Buffer.from(e.kv!.key).toString('latin1')}@${e.kv!.modRevision}` +
    (e.prevKv === undefined ? '' : `<${e.prevKv.modRevision}`))
  return [`${r.watchId}${flags === '' ? '' : ` ${flags}`}`, `rev=${r.header?.revision}`, ...extra, ...(events.length > 0 ? [events.join(', ')] : [])].join(' ')
}
