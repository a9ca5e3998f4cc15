/**
 * A running raftctl node: its data dir opened (bootstrap.ts), the RaftNode, and two gRPC
 * servers — the client address (KV, Cluster, Maintenance, and etcd's Watch over the store's
 * watch hub) and the peer address (Peer transport and PeerInfo).
 *
 * Stopping (SIGINT/SIGTERM, or stop()): the node stops accepting client requests (new ones get
 * UNAVAILABLE, safe to retry elsewhere) and ends watch streams; the loop finishes the Ready in
 * flight — its write batch is completed, never cut — and stops; requests still waiting are
 * answered UNAVAILABLE; the servers close (a snapshot being received is cut and its temporary
 * file removed); RocksDB is closed last. A fatal error stops the node the same way with exit
 * code 1.
 */
import {type ChannelOptions, Server, ServerCredentials, type UntypedServiceImplementation} from '@grpc/grpc-js'
import {ClusterService} from '../generated/raftctl/v1/cluster.js'
import {PeerInfoService} from '../generated/raftctl/v1/internal.js'
import {KVService} from '../generated/raftctl/v1/kv.js'
import {WatchService} from '../generated/etcd/etcdserverpb/watch.js'
import {MaintenanceService} from '../generated/raftctl/v1/maintenance.js'
import {DEFAULT_LIMITS} from '../transport/index.js'
import {serverOptions} from '../transport/options.js'
import {openNodeData, type StartMode} from './bootstrap.js'
import {nodeAutoCompactor} from './compactor.js'
import type {ServerConfig} from './config.js'
import type {NodeLogger} from './logger.js'
import {RaftNode} from './node.js'
import {clusterService} from './services/cluster.js'
import {checkedDecoding, type ServiceContext} from './services/common.js'
import {nodeWatchService} from './services/etcd/watch.js'
import {kvService} from './services/kv.js'
import {maintenanceService} from './services/maintenance.js'
import {peerInfoService} from './services/peer_info.js'
import {RAFTCTL_VERSION} from './version.js'

export interface RunningServer {
  readonly node: RaftNode
  readonly mode: StartMode
  /** The bound client and peer ports (useful with port 0). */
  readonly clientPort: number
  readonly peerPort: number
  /** Stops the node cleanly (idempotent); resolves when RocksDB is closed. */
  stop(reason?: string): Promise<void>
  /** Resolves with the exit code once the node stopped: 0 after stop(), 1 after a fatal error. */
  readonly done: Promise<number>
}

/** How long in-flight client calls get to finish before their streams are cut. */
const SHUTDOWN_GRACE_MS = 2000
/** How long a snapshot transfer cut by the stop gets to remove its temporary file. */
const STAGING_SETTLE_MS = 2000
/** Client messages are small; the limit bounds a malicious or broken request. */
const CLIENT_MAX_MESSAGE_BYTES = 16 << 20

function bind(server: Server, address: string, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (err, port) => {
      if (err !== null) reject(new Error(`cannot listen for ${what} on ${address}: ${err.message}`))
      else resolve(port)
    })
  })
}

function shutdown(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown()
      resolve()
    }, SHUTDOWN_GRACE_MS)
    server.tryShutdown(() => {
      clearTimeout(timer)
      resolve()
    })
  })
}

export interface StartOptions {
  /**
   * Aborting it while the node is still learning which cluster it joins (--join, or
   * --initial-cluster-state existing) makes startServer reject with StartAborted at once.
   */
  readonly signal?: AbortSignal
}

/** Opens the data dir, starts the node and serves; see the module comment. */
export async function startServer(cfg: ServerConfig, log: NodeLogger, opts: StartOptions = {}): Promise<RunningServer> {
  log.info({event: 'starting', version: RAFTCTL_VERSION, id: cfg.id, nodeName: cfg.name, dataDir: cfg.dataDir,
    listenClient: cfg.listenClient, listenPeer: cfg.listenPeer, advertiseClient: cfg.advertiseClient,
    advertisePeer: cfg.advertisePeer, tickMs: cfg.tickMs, electionTicks: cfg.electionTicks,
    heartbeatTicks: cfg.heartbeatTicks, snapshotCount: cfg.snapshotCount, snapshotCatchUpEntries: cfg.snapshotCatchUpEntries,
    maxLearners: cfg.maxLearners}, 'starting raftctl node')
  const {storage, kv, mode} = await openNodeData(cfg, log, opts.signal)
  let accepting = false
  let stopping: Promise<void> | undefined
  let exitCode = 0
  let resolveDone!: (code: number) => void
  const done = new Promise<number>((r) => { resolveDone = r })
  const clientServer = new Server({
    'grpc.max_receive_message_length': CLIENT_MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': CLIENT_MAX_MESSAGE_BYTES,
  } satisfies ChannelOptions)
  const peerGrpc = new Server(serverOptions(DEFAULT_LIMITS.maxMessageBytes, DEFAULT_LIMITS.keepaliveMs))
  const node = new RaftNode({
    config: cfg, storage, kv, log,
    onFatal: () => {
      exitCode = 1
      void stop('fatal error')
    },
  })
  const stop = (reason = 'stop requested'): Promise<void> => {
    stopping ??= (async () => {
      log.info({event: 'stopping', reason}, 'stopping: no new requests; finishing the batch in flight')
      accepting = false
      await kv.close()
      const clientsDone = shutdown(clientServer)
      await node.stop()
      await clientsDone
      peerGrpc.forceShutdown()
      await node.snapshotter.stagingSettled(STAGING_SETTLE_MS)
      await storage.close()
      log.info({event: 'stopped', exitCode}, 'stopped; RocksDB closed')
      resolveDone(exitCode)
    })()
    return stopping
  }
  const ctx: ServiceContext = {node, accepting: () => accepting}
  try {
    clientServer.addService(checkedDecoding(KVService), kvService(ctx) as unknown as UntypedServiceImplementation)
    clientServer.addService(checkedDecoding(ClusterService), clusterService(ctx) as unknown as UntypedServiceImplementation)
    clientServer.addService(checkedDecoding(MaintenanceService), maintenanceService(ctx) as unknown as UntypedServiceImplementation)
    clientServer.addService(checkedDecoding(WatchService), nodeWatchService(ctx) as unknown as UntypedServiceImplementation)
    node.peerServer.addTo(peerGrpc)
    peerGrpc.addService(checkedDecoding(PeerInfoService), peerInfoService(ctx) as unknown as UntypedServiceImplementation)
    const peerPort = await bind(peerGrpc, cfg.listenPeer, 'peers')
    const clientPort = await bind(clientServer, cfg.listenClient, 'clients')
    node.start()
    kv.resumeCompaction()
    const compactor = nodeAutoCompactor(node, cfg.autoCompaction, log)
    compactor.start()
    void done.then(() => compactor.stop())
    accepting = true
    log.info({event: 'serving', mode, clusterId: node.clusterId, clientPort, peerPort,
      advertiseClient: cfg.advertiseClient, advertisePeer: cfg.advertisePeer}, `serving clients on ${cfg.listenClient}`)
    return {node, mode, clientPort, peerPort, stop, done}
  } catch (err) {
    clientServer.forceShutdown()
    peerGrpc.forceShutdown()
    await node.stop().catch(() => {})
    await kv.close()
    await storage.close().catch(() => {})
    throw err
  }
}
