/**
 * Turns merged raw settings into a validated ServerConfig. Each check names the setting and the
 * source of the bad value ("flag --tick-ms", "environment RAFTCTL_TICK_MS", ...).
 */
import {resolve} from 'node:path'
import {EndpointError, parseEndpoint} from '../raftpb/address.js'
import {durationMs, MAX_DURATION_MS} from '../raftpb/duration.js'
import {
  type AutoCompactionConfig, type AutoCompactionMode, type ClusterState, ConfigError, type InitialMember, type LogFormat, type LogLevel,
  MAX_CONCURRENT_STREAMS, mergeSources, readConfigFile, type ServerConfig, type SettingName,
} from './config.js'

type Raw = ReturnType<typeof mergeSources>

/**
 * The longest election timeout (--election-ticks × --tick-ms) a node accepts, as etcd's limit on
 * --election-timeout. The node derives timers from it (the apply wait is 20 election timeouts),
 * and this bound keeps every one of them far below Node.js's 2^31-1 ms timer limit, above which
 * a timer fires at once.
 */
export const MAX_ELECTION_TIMEOUT_MS = 50_000

function get(raw: Raw, name: SettingName): {value: string; source: string} | undefined {
  return raw.get(name)
}

function intSetting(raw: Raw, name: SettingName, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = get(raw, name)!
  const n = Number(v.value)
  if (!/^\d+$/.test(v.value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}..${max}`
    throw new ConfigError(`${v.source}: "${v.value}" is not an integer ${range}`)
  }
  return n
}

function choice<T extends string>(raw: Raw, name: SettingName, options: readonly T[]): T {
  const v = get(raw, name)!
  if (!options.includes(v.value as T)) {
    throw new ConfigError(`${v.source}: "${v.value}" must be one of ${options.join(', ')}`)
  }
  return v.value as T
}

function endpoint(raw: Raw, name: SettingName, allowPortZero: boolean): string {
  const v = get(raw, name)!
  try {
    return parseEndpoint(v.source, v.value, allowPortZero).address
  } catch (err) {
    if (err instanceof EndpointError) throw new ConfigError(err.message)
    throw err
  }
}

/** Hosts that accept connections on every interface and so cannot be dialled by other members. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '[::]', '[0:0:0:0:0:0:0:0]'])

/**
 * The address other members and clients are told to use: the --advertise-* setting, or else the
 * listen address. A wildcard or port-0 listen address is not an address anyone can dial, so it
 * is refused as the advertised one (etcd likewise requires --advertise-client-urls then).
 */
function advertised(raw: Raw, name: 'advertise-peer' | 'advertise-client', listenName: 'listen-peer' | 'listen-client',
  listen: string): string {
  if (raw.has(name)) return endpoint(raw, name, false)
  const host = listen.slice(0, listen.lastIndexOf(':'))
  const port = listen.slice(listen.lastIndexOf(':') + 1)
  if (WILDCARD_HOSTS.has(host) || port === '0') {
    const {source} = get(raw, listenName)!
    throw new ConfigError(`${source}: ${listen} is not an address other members or clients can dial; ` +
      `give --${name} host:port as well`)
  }
  return listen
}

/** Parses "1=127.0.0.1:2380,2=127.0.0.1:2381" into members, refusing duplicates and bad ids. */
export function parseInitialCluster(source: string, text: string): InitialMember[] {
  const members: InitialMember[] = []
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = part.indexOf('=')
    if (eq <= 0) throw new ConfigError(`${source}: "${part}" is not id=host:port`)
    const idText = part.slice(0, eq).trim()
    const id = Number(idText)
    if (!/^\d+$/.test(idText) || !Number.isSafeInteger(id) || id === 0) {
      throw new ConfigError(`${source}: member id "${idText}" is not a positive integer`)
    }
    if (members.some((m) => m.id === id)) throw new ConfigError(`${source}: member id ${id} appears twice`)
    let peerUrl: string
    try {
      peerUrl = parseEndpoint(`${source}: member ${id}`, part.slice(eq + 1)).address
    } catch (err) {
      throw new ConfigError((err as Error).message)
    }
    members.push({id, peerUrl})
  }
  if (members.length === 0) throw new ConfigError(`${source}: no members given`)
  return members
}

/**
 * etcd's --auto-compaction-mode and --auto-compaction-retention: periodic retention is a duration
 * ("5m", "1h") or a whole number of hours; revision retention a whole number of revisions; "0"
 * disables auto-compaction.
 */
function autoCompaction(raw: Raw): AutoCompactionConfig {
  const mode = choice<AutoCompactionMode>(raw, 'auto-compaction-mode', ['periodic', 'revision'])
  const r = get(raw, 'auto-compaction-retention')!
  const text = r.value.trim()
  let retention: number | undefined
  if (mode === 'revision') retention = /^\d+$/.test(text) ? Number(text) : undefined
  else retention = /^\d+$/.test(text) ? Number(text) * 3_600_000 : durationMs(text)
  if (retention === undefined || !Number.isSafeInteger(retention)) {
    throw new ConfigError(mode === 'periodic'
      ? `${r.source}: "${r.value}" is not a duration such as 30m or 1h, or a whole number of hours (0 disables auto-compaction)`
      : `${r.source}: "${r.value}" is not a whole number of revisions to keep (0 disables auto-compaction)`)
  }
  return {mode, retention, checkIntervalMs: durationSetting(raw, 'auto-compaction-check-interval', '5m or 500ms')}
}

/** A duration setting (as --timeout reads it) from 1 ms to the longest timer. */
function durationSetting(raw: Raw, name: SettingName, examples: string): number {
  const c = get(raw, name)!
  const ms = durationMs(c.value)
  if (ms === undefined || ms < 1 || ms > MAX_DURATION_MS) {
    throw new ConfigError(`${c.source}: "${c.value}" is not a duration from 1ms to ${MAX_DURATION_MS}ms such as ${examples}`)
  }
  return ms
}

/**
 * --lease-checkpoint-interval: a duration (etcd's --experimental-lease-checkpoint-interval, 5
 * minutes by default); "0" turns checkpoints off.
 */
function leaseCheckpointInterval(raw: Raw): number {
  const c = get(raw, 'lease-checkpoint-interval')!
  if (c.value.trim() === '0') return 0
  const ms = durationMs(c.value)
  if (ms === undefined || ms < 1 || ms > MAX_DURATION_MS) {
    throw new ConfigError(`${c.source}: "${c.value}" is not a duration from 1ms to ${MAX_DURATION_MS}ms such as 5m or 10s, or 0 (no checkpoints)`)
  }
  return ms
}

/** The largest --max-request-bytes: the gRPC receive limit derived from it must stay below 2 GiB. */
export const MAX_REQUEST_BYTES_LIMIT = 512 * 1024 * 1024

/**
 * The admission-control settings. The uncommitted-bytes bound must hold at least one request of
 * the largest size, or such a request would be refused whenever anything else is uncommitted.
 */
function admissionLimits(raw: Raw): Pick<ServerConfig,
  'maxRequestBytes' | 'maxUncommittedBytes' | 'maxQueuedProposals' | 'maxUnappliedEntries' | 'maxConcurrentStreams' | 'maxTxnOps'> {
  const maxRequestBytes = intSetting(raw, 'max-request-bytes', 1, MAX_REQUEST_BYTES_LIMIT)
  const maxUncommittedBytes = intSetting(raw, 'max-uncommitted-bytes', 1)
  if (maxUncommittedBytes < maxRequestBytes) {
    throw new ConfigError(`--max-uncommitted-bytes (${maxUncommittedBytes}) must be at least --max-request-bytes (${maxRequestBytes})`)
  }
  return {
    maxRequestBytes, maxUncommittedBytes,
    maxQueuedProposals: intSetting(raw, 'max-queued-proposals', 1),
    maxUnappliedEntries: intSetting(raw, 'max-unapplied-entries', 1),
    maxConcurrentStreams: intSetting(raw, 'max-concurrent-streams', 1, MAX_CONCURRENT_STREAMS),
    maxTxnOps: intSetting(raw, 'max-txn-ops', 1),
  }
}

/** Resolves and validates the node configuration from flags, environment, file and defaults. */
export function resolveServerConfig(
  flags: Partial<Record<SettingName, string>>,
  env: NodeJS.ProcessEnv,
  configFile?: string,
): ServerConfig {
  const file = configFile === undefined ? {} : readConfigFile(configFile)
  const raw = mergeSources(flags, env, file, configFile)
  const id = intSetting(raw, 'id', 1)
  const listenPeer = endpoint(raw, 'listen-peer', true)
  const listenClient = endpoint(raw, 'listen-client', true)
  const advertisePeer = advertised(raw, 'advertise-peer', 'listen-peer', listenPeer)
  const advertiseClient = advertised(raw, 'advertise-client', 'listen-client', listenClient)
  const tickMs = intSetting(raw, 'tick-ms', 1, 60_000)
  const electionTicks = intSetting(raw, 'election-ticks', 2)
  const heartbeatTicks = intSetting(raw, 'heartbeat-ticks', 1)
  if (heartbeatTicks >= electionTicks) {
    throw new ConfigError(`--heartbeat-ticks (${heartbeatTicks}) must be less than --election-ticks (${electionTicks})`)
  }
  if (electionTicks * tickMs > MAX_ELECTION_TIMEOUT_MS) {
    throw new ConfigError(`--election-ticks (${electionTicks}) × --tick-ms (${tickMs}) is an election timeout of ${electionTicks * tickMs} ms; ` +
      `the longest is ${MAX_ELECTION_TIMEOUT_MS} ms`)
  }
  const ic = get(raw, 'initial-cluster')
  const initialCluster = ic === undefined ? [{id, peerUrl: advertisePeer}] : parseInitialCluster(ic.source, ic.value)
  const state = choice<ClusterState>(raw, 'initial-cluster-state', ['new', 'existing'])
  if (state === 'new' && !initialCluster.some((m) => m.id === id)) {
    throw new ConfigError(`${ic?.source ?? '--initial-cluster'}: does not include this node's id ${id}`)
  }
  const join = get(raw, 'join')
  const admission = admissionLimits(raw)
  return {
    id,
    name: get(raw, 'name')?.value ?? `node${id}`,
    dataDir: resolve(get(raw, 'data-dir')!.value),
    listenClient, listenPeer, advertiseClient, advertisePeer,
    initialCluster,
    initialClusterState: join === undefined ? state : 'existing',
    join: join === undefined ? undefined : endpoint(raw, 'join', false),
    tickMs,
    electionTicks,
    heartbeatTicks,
    snapshotCount: intSetting(raw, 'snapshot-count', 1),
    snapshotCatchUpEntries: intSetting(raw, 'snapshot-catch-up-entries', 0),
    maxLearners: intSetting(raw, 'max-learners', 0),
    autoCompaction: autoCompaction(raw),
    leaseCheckpointIntervalMs: leaseCheckpointInterval(raw),
    ...admission,
    watchProgressNotifyIntervalMs: durationSetting(raw, 'experimental-watch-progress-notify-interval', '10m or 500ms'),
    logLevel: choice<LogLevel>(raw, 'log-level', ['debug', 'info', 'warn', 'error']),
    logFormat: choice<LogFormat>(raw, 'log-format', ['text', 'json']),
  }
}
