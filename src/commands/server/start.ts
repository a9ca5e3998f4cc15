import {Command, Flags} from '@oclif/core'
import {describeError} from '../../cli/errors.js'
import {SETTINGS, type SettingName} from '../../server/config.js'
import {resolveServerConfig} from '../../server/config_resolve.js'
import {createLogger} from '../../server/logger.js'
import {StartAborted} from '../../server/join.js'
import {type RunningServer, startServer} from '../../server/server.js'

/** Operator-facing help of each setting; every one is also RAFTCTL_<NAME> and a config file key. */
const HELP: Record<SettingName, string> = {
  'id': 'This node\'s id, a positive integer unique in the cluster (default 1).',
  'name': 'A human-readable name for this node (default node<id>).',
  'data-dir': 'Where the node keeps its RocksDB database and snapshots (default ./raftctl-data).',
  'listen-client': 'host:port to serve clients on (default 127.0.0.1:2379).',
  'listen-peer': 'host:port to serve the other nodes on (default 127.0.0.1:2380).',
  'advertise-client': 'host:port clients should use to reach this node (default: --listen-client; required when that is 0.0.0.0, [::] or port 0).',
  'advertise-peer': 'host:port other nodes should use to reach this node (default: --listen-peer; required when that is 0.0.0.0, [::] or port 0).',
  'initial-cluster': 'The founding members as id=host:port,... (default: this node alone). Used only when the data dir is created.',
  'initial-cluster-state': '"new" to found a cluster, "existing" to start a node already added with `raftctl member add` (default new).',
  'join': 'Client endpoint of a running cluster: ask it to add this node as a learner, then start. Used only when the data dir is created.',
  'tick-ms': 'Length of one Raft tick in milliseconds (default 100).',
  'election-ticks': 'Ticks without a leader before a follower campaigns (default 10).',
  'heartbeat-ticks': 'Ticks between leader heartbeats (default 1).',
  'snapshot-count': 'Applied entries between automatic snapshots; the log is compacted after each (default 10000).',
  'snapshot-catch-up-entries': 'Entries kept in the log before a snapshot, so slow followers catch up without one (default 10000).',
  'max-learners': 'Most learners the cluster accepts at once (default 1).',
  'auto-compaction-mode': 'periodic (keep a duration of history) or revision (keep a number of revisions), as etcd (default periodic).',
  'auto-compaction-retention': 'History to keep: periodic, a duration such as 30m or 1h, or a number of hours; revision, a number of revisions; 0 disables (default 0).',
  'auto-compaction-check-interval': 'How often revision mode checks whether to compact (default 5m, etcd\'s fixed interval).',
  'lease-checkpoint-interval': 'How often the leader records the remaining TTL of leases longer than this, so a new leader does not restart them at full TTL; 0 disables (default 5m).',
  'log-level': 'debug, info, warn or error (default info).',
  'log-format': 'text (one line per event) or json (default text).',
  'max-request-bytes': 'Largest client request accepted, in bytes; a larger one is refused with INVALID_ARGUMENT (default 1572864, 1.5 MiB, as etcd).',
  'max-uncommitted-bytes': 'Bytes of proposed entries the leader holds until they are applied; past it writes are refused with RESOURCE_EXHAUSTED, safe to retry (default 67108864, 64 MiB).',
  'max-queued-proposals': 'Proposals that may wait in the node\'s loop; more are refused with RESOURCE_EXHAUSTED, safe to retry (default 1024).',
  'max-unapplied-entries': 'Committed entries waiting to be applied past which writes are refused with RESOURCE_EXHAUSTED, safe to retry (default 5000, as etcd).',
  'max-txn-ops': 'Most operations a transaction may have in its compares and in each branch, nested ones counted, as etcd; more are refused with INVALID_ARGUMENT (default 128).',
  'max-concurrent-streams': 'Concurrent calls one client connection may have open; more wait in the client (default 4294967295, no limit, as etcd).',
  'experimental-watch-progress-notify-interval': 'How often a watch created with progress_notify that got no events is sent the current revision (default 10m, as etcd).',
}

const settingFlags = Object.fromEntries(SETTINGS.map((s) => [s, Flags.string({summary: HELP[s], helpGroup: 'NODE'})]))

export default class ServerStart extends Command {
  static override summary = 'Run a raftctl node: bootstrap a cluster, join one, or resume from the data dir.'
  static override description = [
    'With no flags it starts a single-node cluster with its data in ./raftctl-data, serving clients on 127.0.0.1:2379.',
    'Restarting with an existing data dir resumes from disk and ignores --initial-cluster, --initial-cluster-state and --join.',
    'Every setting can also come from the environment (RAFTCTL_DATA_DIR, ...) or a YAML file given with --config;',
    'a flag wins over the environment, which wins over the file. SIGINT or SIGTERM stops the node cleanly.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> server start',
    '<%= config.bin %> server start --id 1 --data-dir n1 --listen-client 127.0.0.1:2379 --listen-peer 127.0.0.1:2380 --initial-cluster 1=127.0.0.1:2380,2=127.0.0.1:2382,3=127.0.0.1:2384',
    '<%= config.bin %> server start --id 4 --data-dir n4 --listen-client 127.0.0.1:2385 --listen-peer 127.0.0.1:2386 --join 127.0.0.1:2379',
    '<%= config.bin %> server start --config raftctl.yaml',
  ]

  static override flags = {
    config: Flags.string({char: 'c', summary: 'A YAML file of settings (keys as the flag names).'}),
    ...settingFlags,
  }

  public async run(): Promise<void> {
    const {flags} = await this.parse(ServerStart)
    const given: Partial<Record<SettingName, string>> = {}
    for (const s of SETTINGS) {
      const v = (flags as Record<string, string | undefined>)[s]
      if (v !== undefined) given[s] = v
    }
    const cfg = resolveServerConfig(given, process.env, flags.config)
    const log = createLogger({level: cfg.logLevel, format: cfg.logFormat, nodeId: cfg.id})
    // A signal while the node starts (a --join can wait up to a minute for the cluster) stops the
    // start cleanly; once it serves, it stops the node (finish the batch in flight, close RocksDB).
    const starting = new AbortController()
    let server: RunningServer | undefined
    const onSignal = (signal: NodeJS.Signals): void => {
      if (server === undefined) starting.abort(signal)
      else void server.stop(`received ${signal}`)
    }
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    try {
      server = await startServer(cfg, log, {signal: starting.signal})
    } catch (err) {
      if (!(err instanceof StartAborted)) throw err
      log.info({event: 'stopped', exitCode: 0, reason: err.message}, 'stopped before the node started serving')
      process.exit(0)
    }
    if (starting.signal.aborted) void server.stop(`received ${String(starting.signal.reason)}`)
    const code = await server.done
    process.exit(code)
  }

  /** A startup failure (bad setting, foreign data dir, port in use) is one line and exit code 1. */
  protected override async catch(err: Error & {oclif?: {exit?: number}}): Promise<unknown> {
    if (err.oclif?.exit !== undefined) return super.catch(err)
    process.stderr.write(`Error: ${describeError(err)}\n`)
    this.exit(1)
  }
}
