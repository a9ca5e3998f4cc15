/**
 * The fault-injecting proxy in front of every peer link of a chaos cluster.
 *
 * How it knows both ends of a connection: each node is started with
 * `grpc_proxy=http://127.0.0.1:<its own proxy port>`. @grpc/grpc-js then opens every outgoing
 * connection of that node (to any target, loopback included, unless no_proxy/no_grpc_proxy names
 * it) as an HTTP CONNECT tunnel through that port, naming the destination. So a connection
 * accepted on node A's port whose CONNECT names node B's peer address is the link A→B. Clients
 * (the CLI, the test clients) are started without the variable and connect directly: they are
 * never affected.
 *
 * Faults act on directed links: cut(A, B) destroys A's open tunnels to B and refuses new ones
 * (503), so A's messages stop reaching B while B's own tunnels to A keep working — a one-way
 * partition; cutting both directions partitions the pair. delay(A, B, ms) holds each chunk that
 * flows from A to B for `ms` (order kept) in every tunnel between them. Tunnels to addresses that
 * are not a node's peer address pass through untouched.
 */
import {createServer, type Server, type Socket, connect} from 'node:net'

interface LinkState {
  cut: boolean
  delayMs: number
}

interface Tunnel {
  readonly from: number
  readonly to: number | undefined
  readonly client: Socket
  upstream: Socket | undefined
  /** Chunks towards the destination (upstream) and back to the client. */
  up: DelayLine | undefined
  down: DelayLine | undefined
}

/**
 * Writes chunks to a socket in the order they came, each no earlier than its own delay after it
 * came and never before the chunk ahead of it (so a shortened delay cannot reorder bytes).
 */
class DelayLine {
  private readonly queue: Array<{at: number, d: Buffer}> = []
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly out: Socket) {}

  push(d: Buffer, ms: number): void {
    if (ms <= 0 && this.queue.length === 0) {
      this.out.write(d)
      return
    }
    const last = this.queue.at(-1)?.at ?? 0
    this.queue.push({at: Math.max(Date.now() + ms, last), d})
    this.schedule()
  }

  private schedule(): void {
    if (this.timer !== undefined || this.queue.length === 0) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      while (this.queue.length > 0 && this.queue[0].at <= Date.now()) {
        const {d} = this.queue.shift()!
        if (!this.out.destroyed) this.out.write(d)
      }
      this.schedule()
    }, Math.max(0, this.queue[0].at - Date.now()))
  }

  /** Drops what is held (the tunnel is gone). */
  clear(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.queue.length = 0
  }
}

/** The largest CONNECT request head accepted. */
const MAX_HEAD_BYTES = 8192

export class ChaosProxy {
  private readonly servers = new Map<number, Server>()
  private readonly targets = new Map<string, number>()
  private readonly links = new Map<string, LinkState>()
  private readonly tunnels = new Set<Tunnel>()
  /** Tunnels opened per directed link "A>B" (cut ones included), for tests and the report. */
  readonly opened = new Map<string, number>()
  /** Tunnels to addresses that are no node's peer address (passed through untouched). */
  passedThrough = 0

  /** Listens on a free 127.0.0.1 port for node `id`'s outgoing connections; returns the port. */
  async listen(id: number): Promise<number> {
    const server = createServer((socket) => this.accept(id, socket))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    this.servers.set(id, server)
    return (server.address() as {port: number}).port
  }

  /** The environment that routes node `id`'s gRPC connections through its proxy port. */
  static env(port: number): NodeJS.ProcessEnv {
    return {grpc_proxy: `http://127.0.0.1:${port}`, no_grpc_proxy: '', no_proxy: '', http_proxy: '', https_proxy: ''}
  }

  /** Declares that `address` (host:port) is node `id`'s peer address. */
  setPeerAddress(id: number, address: string): void {
    this.targets.set(address, id)
  }

  private link(from: number, to: number): LinkState {
    const k = `${from}>${to}`
    let l = this.links.get(k)
    if (l === undefined) this.links.set(k, l = {cut: false, delayMs: 0})
    return l
  }

  /** Cuts the directed link from → to: its tunnels are destroyed and new ones refused. */
  cut(from: number, to: number): void {
    this.link(from, to).cut = true
    for (const t of this.tunnels) if (t.from === from && t.to === to) this.destroy(t)
  }

  /** Every chunk flowing from → to waits `ms` first (0 = none). */
  delay(from: number, to: number, ms: number): void {
    this.link(from, to).delayMs = ms
  }

  /** Restores every link: no cuts, no delays. */
  healAll(): void {
    this.links.clear()
  }

  /** The directed links currently cut, as "A>B". */
  cutLinks(): string[] {
    return [...this.links].filter(([, l]) => l.cut).map(([k]) => k)
  }

  private accept(from: number, client: Socket): void {
    client.on('error', () => {})
    let head = Buffer.alloc(0)
    const onData = (d: Buffer): void => {
      head = Buffer.concat([head, d])
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) {
        if (head.length > MAX_HEAD_BYTES) client.destroy()
        return
      }
      client.off('data', onData)
      client.pause()
      const m = /^CONNECT (\S+):(\d+) HTTP\/1\.[01]\r\n/.exec(head.subarray(0, end).toString('latin1'))
      if (m === null) {
        client.end('HTTP/1.1 400 Bad Request\r\n\r\n')
        return
      }
      this.open(from, client, m[1], Number(m[2]), head.subarray(end + 4))
    }
    client.on('data', onData)
  }

  private open(from: number, client: Socket, host: string, port: number, rest: Buffer): void {
    const to = this.targets.get(`${host}:${port}`)
    if (to === undefined) this.passedThrough += 1
    else {
      const k = `${from}>${to}`
      this.opened.set(k, (this.opened.get(k) ?? 0) + 1)
      if (this.link(from, to).cut) {
        client.end('HTTP/1.1 503 Service Unavailable\r\n\r\n')
        return
      }
    }
    const t: Tunnel = {from, to, client, upstream: undefined, up: undefined, down: undefined}
    this.tunnels.add(t)
    const upstream = connect(port, host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (rest.length > 0) this.forward(t, 'up', rest)
      client.on('data', (d: Buffer) => this.forward(t, 'up', d))
      upstream.on('data', (d: Buffer) => this.forward(t, 'down', d))
      client.resume()
    })
    t.upstream = upstream
    t.up = new DelayLine(upstream)
    t.down = new DelayLine(client)
    upstream.on('error', () => this.destroy(t))
    client.on('error', () => this.destroy(t))
    upstream.on('close', () => this.destroy(t))
    client.on('close', () => this.destroy(t))
  }

  /** Sends a chunk on through the tunnel, after the link's delay in that direction. */
  private forward(t: Tunnel, dir: 'up' | 'down', d: Buffer): void {
    const line = dir === 'up' ? t.up : t.down
    const ms = t.to === undefined ? 0 : (dir === 'up' ? this.link(t.from, t.to) : this.link(t.to, t.from)).delayMs
    line?.push(d, ms)
  }

  private destroy(t: Tunnel): void {
    if (!this.tunnels.delete(t)) return
    t.up?.clear()
    t.down?.clear()
    t.client.destroy()
    t.upstream?.destroy()
  }

  /** Destroys every tunnel and closes every listening port. */
  async close(): Promise<void> {
    for (const t of [...this.tunnels]) this.destroy(t)
    await Promise.all([...this.servers.values()].map((s) => new Promise((r) => s.close(r))))
    this.servers.clear()
  }
}
