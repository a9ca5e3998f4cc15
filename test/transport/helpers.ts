/**
 * Test harness for the peer transport: nodes made of a PeerServer on 127.0.0.1 (free port) and a
 * PeerTransport, message builders, a raw client that writes hand-made bytes, and bounded waits.
 * Every node and client created here is closed by closeAll() (call it in afterEach).
 */
import {createServer, type Server as NetServer, type Socket} from 'node:net'
import {credentials, type ServiceError} from '@grpc/grpc-js'
import {PeerBatch} from '../../src/generated/raftctl/v1/peer.js'
import {messageToWire} from '../../src/raftpb/convert.js'
import {type Message, MessageType, newEntry, newMessage} from '../../src/raft/types.js'
import {PeerServer, type PeerServerOptions} from '../../src/transport/peer_server.js'
import {PeerTransport} from '../../src/transport/transport.js'
import type {TransportLimits} from '../../src/transport/options.js'
import {RawPeerClient} from '../../src/transport/wire.js'

export const CLUSTER = 7

/** Fast back-off so reconnect tests finish quickly. */
export const FAST: Partial<TransportLimits> = {initialBackoffMs: 20, maxBackoffMs: 200}

export interface LogLine {
  readonly event: string
  readonly fields: Record<string, unknown>
}

/** A node: what its server received, what it logged, its transport's reports. */
export class TestNode {
  readonly received: Message[] = []
  /** The messages of each onMessages call (one accepted batch each). */
  readonly deliveries: Message[][] = []
  readonly logs: LogLine[] = []
  readonly unreachable: number[] = []
  readonly snapshotStatus: Array<[number, boolean]> = []
  readonly known = new Set<number>()
  server: PeerServer
  readonly transport: PeerTransport
  port = 0

  constructor(readonly id: number, opts: {clusterId?: number, limits?: Partial<TransportLimits>,
    onSnapshot?: PeerServerOptions['onSnapshot']} = {}) {
    this.server = this.newServer(opts.clusterId ?? CLUSTER, opts.onSnapshot)
    this.transport = new PeerTransport({
      clusterId: opts.clusterId ?? CLUSTER, nodeId: id, limits: {...FAST, ...opts.limits},
      logger: (event, fields) => this.logs.push({event, fields}),
    })
    this.transport.onUnreachable((peer) => this.unreachable.push(peer))
    this.transport.onSnapshotStatus((peer, ok) => this.snapshotStatus.push([peer, ok]))
  }

  newServer(clusterId = CLUSTER, onSnapshot?: PeerServerOptions['onSnapshot']): PeerServer {
    return new PeerServer({
      clusterId, nodeId: this.id,
      isKnownPeer: (id) => this.known.has(id),
      onMessages: (msgs) => {
        this.deliveries.push(msgs)
        this.received.push(...msgs)
      },
      onSnapshot: onSnapshot ?? (async (_m, chunks) => { for await (const _ of chunks) { /* discard */ } }),
      logger: (event, fields) => this.logs.push({event, fields}),
    })
  }

  get address(): string {
    return `127.0.0.1:${this.port}`
  }

  async listen(port = 0): Promise<this> {
    this.port = await this.server.listen(`127.0.0.1:${port}`)
    return this
  }

  events(name: string): LogLine[] {
    return this.logs.filter((l) => l.event === name)
  }

  async close(): Promise<void> {
    await this.transport.close()
    await this.server.close()
  }
}

const open: Array<{close(): unknown}> = []

/** Starts nodes that all know each other and are each other's peers. */
export async function cluster(ids: number[], limits?: Partial<TransportLimits>): Promise<TestNode[]> {
  const nodes = await Promise.all(ids.map((id) => track(new TestNode(id, {limits})).listen()))
  for (const a of nodes) {
    for (const b of nodes) {
      if (a === b) continue
      a.known.add(b.id)
      a.transport.addPeer(b.id, b.address)
    }
  }
  return nodes
}

/** Registers something to close in closeAll(). */
export function track<T extends {close(): unknown}>(x: T): T {
  open.push(x)
  return x
}

export async function closeAll(): Promise<void> {
  const all = open.splice(0)
  await Promise.all(all.map(async (x) => { await x.close() }))
}

/** Polls `cond` every 5 ms; fails naming `what` after `timeoutMs`. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(5)
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** A MsgAppend from `from` to `to` whose index identifies it, with `payload` bytes of data. */
export function app(from: number, to: number, index: number, payload = 0): Message {
  const data = new Uint8Array(payload).fill(index & 0xff)
  return newMessage({
    msgType: MessageType.MsgAppend, from, to, term: 1, index, logTerm: 1, commit: index,
    entries: payload > 0 ? [newEntry({term: 1, index: index + 1, data})] : [],
  })
}

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
export async function deadPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as {port: number}).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

/** A TCP server that accepts connections and never reads from them: a stalled peer. */
export async function stalledPeer(): Promise<{port: number, close(): Promise<void>}> {
  const sockets = new Set<Socket>()
  const s: NetServer = createServer((sock) => {
    sock.pause()
    sockets.add(sock)
  })
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  return track({
    port: (s.address() as {port: number}).port,
    close: async () => {
      for (const sock of sockets) sock.destroy()
      await new Promise<void>((r) => s.close(() => r()))
    },
  })
}

/** Encodes a PeerBatch the way a (possibly misbehaving) peer would. */
export function batchBytes(header: {clusterId: number, from: number, to: number} | undefined, msgs: Message[]): Uint8Array {
  return PeerBatch.encode({header, messages: msgs.map(messageToWire)}).finish()
}

/** Writes raw request messages on one Peer.Stream call; resolves with the call's error, if any. */
export async function rawStream(port: number, requests: Uint8Array[]): Promise<ServiceError | null> {
  const client = new RawPeerClient(`127.0.0.1:${port}`, credentials.createInsecure())
  try {
    return await new Promise<ServiceError | null>((resolve) => {
      const call = client.stream({deadline: new Date(Date.now() + 5000)}, (err) => resolve(err))
      call.on('error', () => {})
      for (const r of requests) call.write(r)
      call.end()
    })
  } finally {
    client.close()
  }
}
