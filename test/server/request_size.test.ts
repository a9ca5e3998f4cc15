/**
 * Issue 11 §3: the request size limit (--max-request-bytes, etcd's "request is too large"). A
 * request larger than the limit is answered with etcd's INVALID_ARGUMENT "etcdserver: request is too
 * large", naming its size and the limit in raftctl-detail,
 * over real gRPC with the receive limit the server derives from it; one far beyond it is cut by
 * gRPC itself, and neither is marked safe to retry.
 */
import {credentials, Server, ServerCredentials, type ServiceError, status, type UntypedServiceImplementation} from '@grpc/grpc-js'
import {expect} from 'chai'
import {KVClient, KVService, type PutRequest, type PutResponse} from '../../src/generated/etcd/etcdserverpb/kv.js'
import {DETAIL_KEY, RETRY_SAFE_KEY} from '../../src/server/errors.js'
import type {RaftNode} from '../../src/server/node.js'
import {checkedDecoding, clientReceiveLimit, type ServiceContext, unary} from '../../src/server/services/common.js'

const LIMIT = 1000

/** A KV service whose Put answers through unary(), on a free 127.0.0.1 port. */
async function serve(): Promise<{server: Server, client: KVClient, served: () => number}> {
  const node = {id: 1, config: {maxRequestBytes: LIMIT}, log: {debug: () => {}}} as unknown as RaftNode
  const ctx = {node, accepting: () => true} as unknown as ServiceContext
  let served = 0
  const server = new Server({'grpc.max_receive_message_length': clientReceiveLimit(LIMIT)})
  server.addService(checkedDecoding(KVService), {
    put: unary(ctx, 'Put', async (): Promise<PutResponse> => {
      served++
      return {header: undefined, prevKv: undefined}
    }),
  } as unknown as UntypedServiceImplementation)
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(),
    (err, p) => (err === null ? resolve(p) : reject(err))))
  const client = new KVClient(`127.0.0.1:${port}`, credentials.createInsecure())
  return {server, client, served: () => served}
}

/** etcd's Put of `key` and `value`; its other fields are zero, so they add no bytes. */
const req = (key: Uint8Array, value: Uint8Array): PutRequest => ({key, value, lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false})

const put = (client: KVClient, req: PutRequest): Promise<ServiceError | null> =>
  new Promise((resolve) => client.put(req, (err) => resolve(err)))

/** The encoded size of a Put with an empty key and `n` value bytes (tag + length + bytes). */
const valueFor = (encodedSize: number): Uint8Array => new Uint8Array(encodedSize - 1 - (encodedSize - 1 > 127 ? 2 : 1))

describe('server/services: request size limit (--max-request-bytes)', () => {
  let s: Awaited<ReturnType<typeof serve>>
  before(async () => { s = await serve() })
  after(() => {
    s.client.close()
    s.server.forceShutdown()
  })

  it('serves a request of exactly the limit and refuses one byte more with INVALID_ARGUMENT naming both sizes', async () => {
    expect(await put(s.client, req(new Uint8Array(), valueFor(LIMIT)))).to.equal(null)
    expect(s.served()).to.equal(1)
    const err = await put(s.client, req(new Uint8Array(), valueFor(LIMIT + 1)))
    expect(err?.code).to.equal(status.INVALID_ARGUMENT)
    expect(err?.details).to.equal('etcdserver: request is too large')
    expect(err?.metadata.get(DETAIL_KEY)).to.deep.equal([`the request is ${LIMIT + 1} bytes, more than the ${LIMIT} bytes --max-request-bytes allows`])
    expect(err?.metadata.get(RETRY_SAFE_KEY)).to.deep.equal([])
    expect(s.served(), 'the handler never ran').to.equal(1)
  })

  it('answers a request beyond the gRPC receive limit with a clear RESOURCE_EXHAUSTED, not a broken connection', async () => {
    const err = await put(s.client, req(new Uint8Array(), new Uint8Array(clientReceiveLimit(LIMIT) + 1)))
    expect(err?.code).to.equal(status.RESOURCE_EXHAUSTED)
    expect(err?.details).to.match(/larger than max/)
    expect(err?.metadata.get(RETRY_SAFE_KEY)).to.deep.equal([])
    // The connection still works.
    expect(await put(s.client, req(new Uint8Array([1]), new Uint8Array(10)))).to.equal(null)
  })

  it('keeps the receive limit above --max-request-bytes', () => {
    expect(clientReceiveLimit(1_572_864)).to.equal(16 << 20)
    expect(clientReceiveLimit(64 << 20)).to.equal((64 << 20) + 512 * 1024)
  })
})
