/**
 * The configuration of one raftctl node, resolved from four sources with the precedence
 * flag > environment (RAFTCTL_*) > config file (YAML) > default, then validated. Every value that
 * is wrong is reported with the source it came from, so an operator knows what to fix.
 */
import {readFileSync} from 'node:fs'
import {parse as parseYaml} from 'yaml'
import {CodedError, withCode} from '../raft/errors.js'

/** Thrown for any invalid setting; the message names the setting, its source and the problem. */
export class ConfigError extends withCode(CodedError, 'CONFIG_INVALID') {}

export type ClusterState = 'new' | 'existing'
export type AutoCompactionMode = 'periodic' | 'revision'

/** Auto-compaction settings (src/server/compactor.ts): etcd's --auto-compaction-mode and -retention. */
export interface AutoCompactionConfig {
  readonly mode: AutoCompactionMode
  /** periodic: milliseconds; revision: a number of revisions. 0 disables auto-compaction. */
  readonly retention: number
  /** revision mode: milliseconds between checks (etcd: 5 minutes). */
  readonly checkIntervalMs: number
}
export type LogFormat = 'text' | 'json'
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** A member named in --initial-cluster: its node id and peer address (host:port). */
export interface InitialMember {
  readonly id: number
  readonly peerUrl: string
}

/** The fully resolved, validated settings of a node. */
export interface ServerConfig {
  readonly id: number
  readonly name: string
  readonly dataDir: string
  readonly listenClient: string
  readonly listenPeer: string
  readonly advertiseClient: string
  readonly advertisePeer: string
  readonly initialCluster: readonly InitialMember[]
  readonly initialClusterState: ClusterState
  readonly join?: string
  readonly tickMs: number
  readonly electionTicks: number
  readonly heartbeatTicks: number
  readonly snapshotCount: number
  readonly snapshotCatchUpEntries: number
  readonly maxLearners: number
  /** Auto-compaction (etcd's flags): mode, retention (ms or revisions; 0 = off), revision-mode check interval (ms). */
  readonly autoCompaction: AutoCompactionConfig
  /** How often the leader checkpoints the remaining TTL of long leases, in ms (0 = never). */
  readonly leaseCheckpointIntervalMs: number
  /** The largest client request accepted, in encoded bytes (INVALID_ARGUMENT beyond). */
  readonly maxRequestBytes: number
  /** The leader's proposed but not yet applied entry bytes beyond which writes are refused. */
  readonly maxUncommittedBytes: number
  /** Proposals that may wait in the node's loop; more are refused. */
  readonly maxQueuedProposals: number
  /** Committed entries waiting to be applied beyond which writes are refused. */
  readonly maxUnappliedEntries: number
  /** Concurrent gRPC streams (calls) one client connection may have open on the client listener. */
  readonly maxConcurrentStreams: number
  /** How often a watch asked with progress_notify that sent no events is told the current revision (etcd: 10 minutes). */
  readonly watchProgressNotifyIntervalMs: number
  /** Most operations a Txn may have in its compares and in each branch, nested txns within the budget (etcd's --max-txn-ops). */
  readonly maxTxnOps: number
  readonly logLevel: LogLevel
  readonly logFormat: LogFormat
}

/** The largest value of --max-concurrent-streams (an HTTP/2 setting is a 32-bit unsigned integer). */
export const MAX_CONCURRENT_STREAMS = 2 ** 32 - 1

/** Setting names as they appear in flags (kebab-case); env is RAFTCTL_ + upper snake case. */
export const SETTINGS = [
  'id', 'name', 'data-dir', 'listen-client', 'listen-peer', 'advertise-client', 'advertise-peer',
  'initial-cluster', 'initial-cluster-state', 'join', 'tick-ms', 'election-ticks',
  'heartbeat-ticks', 'snapshot-count', 'snapshot-catch-up-entries', 'max-learners',
  'auto-compaction-mode', 'auto-compaction-retention', 'auto-compaction-check-interval', 'lease-checkpoint-interval', 'log-level',
  'log-format', 'max-request-bytes', 'max-uncommitted-bytes', 'max-queued-proposals', 'max-unapplied-entries',
  'max-concurrent-streams', 'experimental-watch-progress-notify-interval', 'max-txn-ops',
] as const
export type SettingName = (typeof SETTINGS)[number]

export const DEFAULTS: Readonly<Record<SettingName, string | undefined>> = {
  'id': '1',
  'name': undefined,
  'data-dir': './raftctl-data',
  'listen-client': '127.0.0.1:2379',
  'listen-peer': '127.0.0.1:2380',
  'advertise-client': undefined,
  'advertise-peer': undefined,
  'initial-cluster': undefined,
  'initial-cluster-state': 'new',
  'join': undefined,
  'tick-ms': '100',
  'election-ticks': '10',
  'heartbeat-ticks': '1',
  'snapshot-count': '10000',
  'snapshot-catch-up-entries': '10000',
  'max-learners': '1',
  'auto-compaction-mode': 'periodic',
  'auto-compaction-retention': '0',
  'auto-compaction-check-interval': '5m',
  // etcd's --experimental-lease-checkpoint-interval default.
  'lease-checkpoint-interval': '5m',
  'log-level': 'info',
  'log-format': 'text',
  // etcd's --max-request-bytes default, 1.5 MiB.
  'max-request-bytes': '1572864',
  'max-uncommitted-bytes': String(64 * 1024 * 1024),
  'max-queued-proposals': '1024',
  // etcd refuses requests past this gap between its committed and applied indexes.
  'max-unapplied-entries': '5000',
  // etcd's --max-concurrent-streams default: no limit below HTTP/2's own.
  'max-concurrent-streams': String(MAX_CONCURRENT_STREAMS),
  // etcd's flag of the same name and default.
  'experimental-watch-progress-notify-interval': '10m',
  // etcd's --max-txn-ops default.
  'max-txn-ops': '128',
}

/** One setting's raw value and where it came from (for error messages). */
interface RawValue {
  readonly value: string
  readonly source: string
}

/** The environment variable that carries a setting: data-dir → RAFTCTL_DATA_DIR. */
export function envName(setting: SettingName): string {
  return `RAFTCTL_${setting.toUpperCase().replaceAll('-', '_')}`
}

/** Reads a YAML config file whose keys are setting names (kebab-case or snake_case). */
export function readConfigFile(path: string): Partial<Record<SettingName, string>> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`)
  }
  let doc: unknown
  try {
    doc = parseYaml(text)
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid YAML: ${(err as Error).message}`)
  }
  if (doc === null || doc === undefined) return {}
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(`config file ${path} must be a mapping of setting: value`)
  }
  const out: Partial<Record<SettingName, string>> = {}
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    const name = key.replaceAll('_', '-') as SettingName
    if (!SETTINGS.includes(name)) {
      throw new ConfigError(`config file ${path} has unknown setting "${key}"`)
    }
    out[name] = yamlScalar(path, key, value)
  }
  return out
}

function yamlScalar(path: string, key: string, value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (Array.isArray(value) && key.replaceAll('_', '-') === 'initial-cluster') {
    return value.map((v) => String(v)).join(',')
  }
  throw new ConfigError(`config file ${path}: setting "${key}" must be a string or a number`)
}

/**
 * Merges the sources by precedence. `flags` holds only flags the operator actually passed.
 */
export function mergeSources(
  flags: Partial<Record<SettingName, string>>,
  env: NodeJS.ProcessEnv,
  file: Partial<Record<SettingName, string>>,
  filePath?: string,
): Map<SettingName, RawValue> {
  const merged = new Map<SettingName, RawValue>()
  for (const s of SETTINGS) {
    const fromEnv = env[envName(s)]
    if (flags[s] !== undefined) merged.set(s, {value: flags[s]!, source: `flag --${s}`})
    else if (fromEnv === '') {
      // Set but empty is almost always a mistake in a script; falling back silently would hide it.
      throw new ConfigError(`environment ${envName(s)} is set but empty; give it a value or unset it (or pass --${s})`)
    } else if (fromEnv !== undefined) merged.set(s, {value: fromEnv, source: `environment ${envName(s)}`})
    else if (file[s] !== undefined) merged.set(s, {value: file[s]!, source: `config file ${filePath} (${s})`})
    else if (DEFAULTS[s] !== undefined) merged.set(s, {value: DEFAULTS[s]!, source: `default of --${s}`})
  }
  return merged
}
