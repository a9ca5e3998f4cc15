/**
 * A running raftctl node: its data dir opened (bootstrap.ts), the RaftNode, and two gRPC
 * servers — the client address (etcd's KV, Watch (over the store's watch hub), Cluster,
 * Maintenance, Lease, Lock and Election, etcd's Auth answering UNIMPLEMENTED, raftctl's extension
 * service Raftctl) and the peer address (Peer transport and PeerInfo).
 *
 * Stopping (SIGINT/SIGTERM, or stop()): the node stops accepting client requests (new ones get
 * UNAVAILABLE, safe to retry elsewhere) and ends watch streams; the loop finishes the Ready in
 * flight — its write batch is completed, never cut — and stops; requests still waiting are
 * answered UNAVAILABLE; the servers close (a snapshot being received is cut and its temporary
 * file removed); RocksDB is closed last. A fatal error stops the node the same way with exit
 * code 1, and so does learning that the node no longer belongs to the cluster (node.ts, leave).
 */
import {type ChannelOptions, Server, ServerCredentials, setLogger, type UntypedServiceImplementation} from '@grpc/grpc-js'
import {AuthService} from '../generated/etcd/etcdserverpb/auth.js'
import {ClusterService as EtcdClusterService} from '../generated/etcd/etcdserverpb/cluster.js'
import {KVService as EtcdKVService} from '../generated/etcd/etcdserverpb/kv.js'
import {LeaseService} from '../generated/etcd/etcdserverpb/lease.js'
import {WatchService} from '../generated/etcd/etcdserverpb/watch.js'
import {MaintenanceService as EtcdMaintenanceService} from '../generated/etcd/etcdserverpb/maintenance.js'
import {PeerInfoService} from '../generated/raftctl/v1/internal.js'
import {RaftctlService} from '../generated/raftctl/v1/raftctl.js'
import {parseEndpoint} from '../raftpb/address.js'
import {DEFAULT_LIMITS} from '../transport/index.js'
import {serverOptions} from '../transport/options.js'
import {openNodeData, type StartMode} from './bootstrap.js'
import {nodeAutoCompactor} from './compactor.js'
import {ConfigError, type ServerConfig} from './config.js'
import {LeaderForwarder} from './forward.js'
import {LessorDriver} from './lessor_driver.js'
import type {NodeLogger} from './logger.js'
import {RaftNode} from './node.js'
import {MembershipLostError} from './peer_check.js'
import {checkedDecoding, clientReceiveLimit, type ServiceContext} from './services/common.js'
import {authService} from './services/etcd/auth.js'
import {etcdClusterService} from './services/etcd/cluster.js'
import {etcdKvService} from './services/etcd/kv.js'
import {registerElectionService} from './services/etcd/election.js'
import {etcdLeaseService} from './services/etcd/lease.js'
import {etcdMaintenanceService} from './services/etcd/maintenance.js'
import {registerLockService} from './services/etcd/lock.js'
import {raftctlService} from './services/etcd/raftctl.js'
import {ownClientFactory, type RecipeServices} from './services/etcd/recipes.js'
import {nodeWatchService} from './services/etcd/watch.js'
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
/** The largest response sent to a client (a range of many keys). */
const CLIENT_MAX_SEND_BYTES = 16 << 20

/** What a failed listen means for the operator, from the system error grpc-js reports. */
function listenProblem(message: string): string {
  if (/EADDRINUSE/.test(message)) return 'the address is already in use (another process listens there)'
  if (/EACCES/.test(message)) return 'permission denied (ports below 1024 need privileges)'
  if (/EADDRNOTAVAIL/.test(message)) return 'the host is not an address of this machine'
  return message
}

/** Binds `server` to `address`, set by `flag`; a failure is one ConfigError line naming the flag. */
function bind(server: Server, address: string, what: string, flag: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (err, port) => {
      if (err === null) resolve(port)
      else reject(new ConfigError(`cannot listen for ${what} on ${address}: ${listenProblem(err.message)}; choose another ${flag}`))
    })
  })
}

/**
 * Routes grpc-js's own diagnostics into the node's log at debug level. It prints them to stderr
 * by default (e.g. "No address added out of total 1 resolved" before a failed listen), which
 * would put a stray line before the node's one error line; the node reports every failure itself.
 */
function routeGrpcLogs(log: NodeLogger): void {
  const line = (...args: unknown[]): void => log.debug({event: 'grpc-diagnostic'}, args.map(String).join(' '))
  setLogger({error: line, info: line, debug: line})
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
    maxLearners: cfg.maxLearners, maxRequestBytes: cfg.maxRequestBytes, maxUncommittedBytes: cfg.maxUncommittedBytes,
    maxQueuedProposals: cfg.maxQueuedProposals, maxUnappliedEntries: cfg.maxUnappliedEntries,
    maxConcurrentStreams: cfg.maxConcurrentStreams, maxTxnOps: cfg.maxTxnOps}, 'starting raftctl node')
  routeGrpcLogs(log)
  const {storage, kv, leases, mode} = await openNodeData(cfg, log, opts.signal)
  let accepting = false
  let stopping: Promise<void> | undefined
  let exitCode = 0
  let resolveDone!: (code: number) => void
  const done = new Promise<number>((r) => { resolveDone = r })
  const clientServer = new Server({
    // Above --max-request-bytes, so that a larger request gets a clear INVALID_ARGUMENT (common.ts).
    'grpc.max_receive_message_length': clientReceiveLimit(cfg.maxRequestBytes),
    'grpc.max_send_message_length': CLIENT_MAX_SEND_BYTES,
    // A bound on the calls one connection has in flight bounds the work a burst from one client
    // hands this (single-threaded) node at once; the calls beyond it wait in the client.
    'grpc.max_concurrent_streams': cfg.maxConcurrentStreams,
  } satisfies ChannelOptions)
  const peerGrpc = new Server(serverOptions(DEFAULT_LIMITS.maxMessageBytes, DEFAULT_LIMITS.keepaliveMs))
  const node = new RaftNode({
    config: cfg, storage, kv, log,
    onFatal: (err) => {
      exitCode = 1
      void stop(err instanceof MembershipLostError ? 'this node no longer belongs to the cluster' : 'fatal error')
    },
  })
  const stop = (reason = 'stop requested'): Promise<void> => {
    stopping ??= (async () => {
      log.info({event: 'stopping', reason}, 'stopping: no new requests; finishing the batch in flight')
      accepting = false
      lessor.stop()
      for (const r of recipes) r.close()
      await kv.close()
      const clientsDone = shutdown(clientServer)
      forwarder.close()
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
  const forwarder = new LeaderForwarder(node)
  const lessor = new LessorDriver(node, leases, log, {checkpointIntervalMs: cfg.leaseCheckpointIntervalMs})
  const ctx: ServiceContext = {node, accepting: () => accepting, forwarder}
  // Lock and Election run etcd's recipes through a client of this server's own port (recipes.ts).
  let boundClientPort = 0
  const ownClient = ownClientFactory(parseEndpoint('--listen-client', cfg.listenClient, true).host, () => boundClientPort)
  const recipes: RecipeServices[] = []
  try {
    clientServer.addService(checkedDecoding(EtcdKVService), etcdKvService(ctx) as unknown as UntypedServiceImplementation)
    clientServer.addService(checkedDecoding(WatchService), nodeWatchService(ctx) as unknown as UntypedServiceImplementation)
    clientServer.addService(checkedDecoding(EtcdClusterService), etcdClusterService(ctx) as unknown as UntypedServiceImplementation)
    clientServer.addService(checkedDecoding(EtcdMaintenanceService), etcdMaintenanceService(ctx) as unknown as UntypedServiceImplementation)
    clientServer.addService(checkedDecoding(LeaseService), etcdLeaseService(ctx, lessor) as unknown as UntypedServiceImplementation)
    clientServer.addService(checkedDecoding(AuthService), authService())
    clientServer.addService(checkedDecoding(RaftctlService), raftctlService(ctx) as unknown as UntypedServiceImplementation)
    recipes.push(registerLockService(clientServer, ownClient), registerElectionService(clientServer, ownClient))
    node.peerServer.addTo(peerGrpc)
    peerGrpc.addService(checkedDecoding(PeerInfoService), peerInfoService(ctx) as unknown as UntypedServiceImplementation)
    const peerPort = await bind(peerGrpc, cfg.listenPeer, 'peers', '--listen-peer')
    const clientPort = await bind(clientServer, cfg.listenClient, 'clients', '--listen-client')
    boundClientPort = clientPort
    node.start()
    lessor.start()
    kv.resumeCompaction()
    const compactor = nodeAutoCompactor(node, cfg.autoCompaction, log)
    compactor.start()
    void done.then(() => compactor.stop())
    accepting = true
    log.info({event: 'serving', mode, clusterId: node.clusterId, clientPort, peerPort,
      advertiseClient: cfg.advertiseClient, advertisePeer: cfg.advertisePeer}, `serving clients on ${cfg.listenClient}`)
    return {node, mode, clientPort, peerPort, stop, done}
  } catch (err) {
    lessor.stop()
    for (const r of recipes) r.close()
    forwarder.close()
    clientServer.forceShutdown()
    peerGrpc.forceShutdown()
    await node.stop().catch(() => {})
    await kv.close()
    await storage.close().catch(() => {})
    throw err
  }
}
