/**
 * The receiving side of the peer transport: the Peer gRPC service. Batches from the message
 * stream are checked (check.ts) and handed to `onMessages` in arrival order; snapshot transfers
 * are handed to `onSnapshot` as an async iterable of the file's bytes, and acknowledged once it
 * resolves. Anything refused is logged and answered with a named gRPC status, never delivered.
 */
import {
  type handleClientStreamingCall, Metadata, Server, ServerCredentials, type ServerReadableStream,
  type sendUnaryData, status,
} from '@grpc/grpc-js'
import type {PeerStreamSummary, SnapshotAck} from '../generated/raftctl/v1/peer.js'
import {parseEndpoint} from '../raftpb/address.js'
import type {Message} from '../raft/types.js'
import {checkBatch, type ReceiverIdentity} from './check.js'
import {errorMessage, PeerRefusal} from './errors.js'
import {DEFAULT_LIMITS, serverOptions, type TransportLogger} from './options.js'
import {readFirstChunk, type SnapshotProgress, snapshotData} from './snapshot_receive.js'
import {PEER_SERVER_DEFINITION} from './wire.js'

export interface PeerServerOptions extends ReceiverIdentity {
  /**
   * Receives the messages of one accepted batch, in the order the sender produced them. Called
   * synchronously from the gRPC event; it should only enqueue (the node steps them in its loop).
   */
  readonly onMessages: (messages: Message[]) => void
  /**
   * Receives a snapshot: the MsgSnapshot (with metadata) and the file's bytes. It should store
   * the file, and apply it atomically only after the iteration completed without error. When it
   * resolves the sender is told the snapshot succeeded; when it throws, that it failed.
   */
  readonly onSnapshot: (message: Message, chunks: AsyncIterable<Uint8Array>) => Promise<void>
  readonly logger?: TransportLogger
  /** Largest request message accepted; must match the senders' limit. Default 64 MiB. */
  readonly maxMessageBytes?: number
  /** Interval of the server's keepalive pings. Default 10 s. */
  readonly keepaliveMs?: number
}

type Handler = handleClientStreamingCall<Buffer, unknown>

export class PeerServer {
  private server: Server | null = null
  private boundPort = 0
  private readonly log: TransportLogger

  constructor(private readonly opts: PeerServerOptions) {
    for (const [name, v] of [['clusterId', opts.clusterId], ['nodeId', opts.nodeId]] as const) {
      if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`PeerServer ${name} must be a positive integer, got ${v}`)
    }
    this.log = opts.logger ?? (() => {})
  }

  /** The Peer service's handlers, for a grpc-js Server the caller owns (see addTo). */
  get implementation(): Record<'stream' | 'sendSnapshot', Handler> {
    return {
      stream: (call, cb) => this.handleStream(call, cb as sendUnaryData<PeerStreamSummary>),
      sendSnapshot: (call, cb) => void this.handleSnapshot(call, cb as sendUnaryData<SnapshotAck>),
    }
  }

  /** Adds the Peer service to `server`. */
  addTo(server: Server): void {
    server.addService(PEER_SERVER_DEFINITION, this.implementation)
  }

  /**
   * Serves the Peer service on its own gRPC server bound to exactly `address` ("host:port";
   * port 0 picks a free port). Resolves with the bound port.
   */
  async listen(address: string): Promise<number> {
    if (this.server !== null) throw new Error(`the peer server is already listening on port ${this.boundPort}`)
    const ep = parseEndpoint('peer listen address', address, true)
    const server = new Server(serverOptions(
      this.opts.maxMessageBytes ?? DEFAULT_LIMITS.maxMessageBytes, this.opts.keepaliveMs ?? DEFAULT_LIMITS.keepaliveMs))
    this.addTo(server)
    this.boundPort = await new Promise<number>((resolve, reject) => {
      server.bindAsync(ep.address, ServerCredentials.createInsecure(), (err, port) => {
        if (err !== null) reject(new Error(`cannot listen for peers on ${ep.address}: ${err.message}`))
        else resolve(port)
      })
    })
    this.server = server
    this.log('peer-server-listening', {address: `${ep.host}:${this.boundPort}`})
    return this.boundPort
  }

  /** The port listen() bound (0 before listening). */
  get port(): number {
    return this.boundPort
  }

  /** Stops serving at once: open streams and transfers are cancelled (senders will reconnect). */
  async close(): Promise<void> {
    const server = this.server
    this.server = null
    server?.forceShutdown()
  }

  private refuse(call: string, peer: number | undefined, err: unknown): Partial<{code: status, details: string}> {
    const r = err instanceof PeerRefusal ? err : new PeerRefusal(status.INTERNAL, errorMessage(err))
    this.log('peer-refused', {call, peer: r.peer ?? peer, code: r.code, reason: r.message})
    return {code: r.grpcCode, details: r.message}
  }

  private handleStream(call: ServerReadableStream<Buffer, unknown>, cb: sendUnaryData<PeerStreamSummary>): void {
    let done = false
    let from: number | undefined
    const summary = {batches: 0, messages: 0}
    const finish = (err: unknown): void => {
      if (done) return
      done = true
      if (err === null) {
        this.log('peer-stream-closed', {peer: from, ...summary})
        cb(null, summary)
      } else {
        cb(this.refuse('stream', from, err), null)
      }
    }
    call.on('data', (bytes: Buffer) => {
      if (done) return
      try {
        const batch = checkBatch(this.opts, bytes)
        if (from === undefined) this.accept(call, batch.header.from)
        else if (batch.header.from !== from) {
          throw new PeerRefusal(status.PERMISSION_DENIED, `a stream from node ${from} carried a batch from node ${batch.header.from}`)
        }
        from = batch.header.from
        summary.batches++
        summary.messages += batch.messages.length
        this.opts.onMessages(batch.messages)
      } catch (err) {
        finish(err)
      }
    })
    call.on('end', () => finish(null))
    const broken = (reason: string): void => {
      if (done) return
      done = true
      this.log('peer-stream-broken', {peer: from, reason, ...summary})
    }
    call.on('error', (err) => broken(err.message))
    call.on('cancelled', () => broken('the sender cancelled the stream or the connection was lost'))
  }

  /** The first batch passed: tell the sender its stream is up (response headers). */
  private accept(call: ServerReadableStream<Buffer, unknown>, from: number): void {
    call.sendMetadata(new Metadata())
    this.log('peer-stream-opened', {peer: from})
  }

  private async handleSnapshot(call: ServerReadableStream<Buffer, unknown>, cb: sendUnaryData<SnapshotAck>): Promise<void> {
    call.on('error', () => {}) // a cancelled transfer surfaces through the iterator
    const it = call[Symbol.asyncIterator]() as AsyncIterator<Buffer>
    let from: number | undefined
    let first
    try {
      first = await readFirstChunk(this.opts, it)
    } catch (err) {
      cb(this.refuse('snapshot', from, err), null)
      return
    }
    from = first.message.from
    const meta = first.message.snapshot!.metadata
    const fields = {peer: from, index: meta.index, term: meta.term}
    this.log('snapshot-receiving', fields)
    const progress: SnapshotProgress = {bytes: 0, complete: false}
    const started = Date.now()
    try {
      await this.opts.onSnapshot(first.message, snapshotData(first.first, it, progress))
    } catch (err) {
      const r = progress.error ?? new PeerRefusal(status.ABORTED, `node ${this.opts.nodeId} could not apply the snapshot: ${errorMessage(err)}`)
      this.log('snapshot-receive-failed', {...fields, bytes: progress.bytes, reason: r.message})
      cb({code: r.grpcCode, details: r.message}, null)
      return
    }
    this.log('snapshot-received', {...fields, bytes: progress.bytes, complete: progress.complete, ms: Date.now() - started})
    cb(null, {size: progress.bytes, index: meta.index})
  }
}
