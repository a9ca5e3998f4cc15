/**
 * The configuration of one Raft node (etcd-io/raft Config, raft-rs Config). Every field is
 * documented with its meaning, its default and the trade-off it controls. `validateConfig`
 * fills in the defaults and refuses an invalid value with a ConfigInvalidError naming the field.
 */
import {ConfigInvalidError} from './errors.js'

/** How ReadIndex requests are confirmed (Raft thesis §6.4). */
export type ReadOnlyOption = 'safe' | 'lease'

/** The options a caller passes; everything but `id` has a default. */
export interface Config {
  /**
   * The identity of the local node. Must be a safe integer > 0 (0 means "none" in Raft messages).
   * No default: it must be unique in the group and never reused by another node, since peers
   * key their votes, progress and membership by it (a reused id could inherit a vote).
   */
  readonly id: number
  /**
   * The number of ticks a follower waits without hearing from a leader before it campaigns; the
   * actual timeout is randomized in [electionTick, 2*electionTick) (Raft paper §5.2). It is also
   * how often a check-quorum leader verifies it still has a quorum. Default 10. Must be greater
   * than heartbeatTick; etcd recommends electionTick = 10 * heartbeatTick. A smaller value
   * detects a dead leader sooner but makes spurious elections more likely.
   */
  readonly electionTick?: number
  /**
   * The number of ticks between heartbeats sent by the leader (Raft paper §5.2); heartbeats
   * also carry the commit index, confirm 'safe' reads (thesis §6.4) and let a paused follower
   * recover. Default 1. Must be > 0 and less than electionTick. A smaller value spreads the
   * commit index and detects lost appends sooner at the cost of more messages per tick.
   */
  readonly heartbeatTick?: number
  /**
   * The last index the application has applied, given when restarting; entries up to it are
   * not handed out again in Ready.committedEntries. Default 0 (every committed entry after the
   * storage's snapshot is handed out again). Must lie between the storage's snapshot index and
   * the committed index recovered from storage. Setting it lets an application whose state
   * machine is durable skip re-applying entries; it must never be set beyond what the state
   * machine really holds, or those entries are lost to it.
   */
  readonly applied?: number
  /**
   * The maximum number of bytes (entry data + context) in one MsgAppend. 0 means at most one
   * entry per message. Default 1 MiB. A smaller value lowers the cost of probing and of a lost
   * message; a larger one raises throughput during normal replication.
   */
  readonly maxSizePerMsg?: number
  /**
   * The maximum number of in-flight MsgAppend messages per follower in Replicate state (flow
   * control, etcd Inflights). Default 256. Must be > 0. A larger value keeps a fast network busy
   * but lets more messages pile up (and be resent) when a follower is slow.
   */
  readonly maxInflightMsgs?: number
  /**
   * The maximum number of in-flight bytes (entry data) per follower; 0 means no limit. Default
   * 0. When set it must be >= maxSizePerMsg. Complements maxInflightMsgs when entries vary in size:
   * a limit bounds the memory and transport buffers a slow follower can tie up, while too small a
   * limit throttles replication of large entries to one round trip per limit's worth of bytes.
   */
  readonly maxInflightBytes?: number
  /**
   * The maximum total size (entry data bytes) of the leader's uncommitted log tail; a proposal
   * that would exceed it is dropped with reason 'too-many-uncommitted-bytes'. Empty entries are
   * always accepted, and a proposal is always accepted when the tail is empty. 0 means no limit.
   * Default 0. A limit protects memory when a quorum is unavailable, at the cost of refusing writes.
   */
  readonly maxUncommittedSize?: number
  /**
   * The maximum total size (entry data + context bytes, counted as for maxSizePerMsg) of the
   * committed entries one Ready hands out for applying (etcd MaxCommittedSizePerReady). At least
   * one entry is always handed out, so an entry larger than the limit is applied on its own; the
   * other committed entries stay queued in the log and come in the following Readys. 0 means no
   * limit. Default 1 MiB (etcd's default is its MaxSizePerMsg, 1 MiB in etcd's server). An
   * application that applies inside its Ready loop should keep the time one Ready takes well
   * below the election timeout: between two Readys it steps messages and ticks, so a leader
   * keeps sending heartbeats while it works through a burst of commits. The cost of a smaller
   * limit is more Readys, each with its fixed overhead, for the same entries.
   */
  readonly maxCommittedSizePerReady?: number
  /**
   * When true, a leader steps down if it has not heard from a quorum within an election timeout,
   * and a node that heard from a leader within the election timeout ignores vote requests (leader
   * lease). Default false (as etcd and raft-rs); servers should enable it. Required for lease reads.
   * The cost: a leader that misses a quorum's responses for one election timeout (a slow or lossy
   * network) steps down and an election follows, and a node in the lease cannot help elect a
   * new leader until the lease expires.
   */
  readonly checkQuorum?: boolean
  /**
   * When true, a node runs a pre-election (Raft thesis §9.6) and only increments its term when a
   * quorum says it could win, so a partitioned node that rejoins does not disrupt the leader.
   * Default false (as etcd and raft-rs); servers should enable it. Costs one extra round trip per
   * election.
   */
  readonly preVote?: boolean
  /**
   * How linearizable reads (RawNode.readIndex) are confirmed. 'safe' confirms each ReadIndex
   * with a heartbeat round to a quorum (thesis §6.4). 'lease' trusts the leader lease instead
   * (thesis §6.4.1): no round trip, but correctness then depends on bounded clock drift; it
   * requires checkQuorum. Default 'safe'.
   */
  readonly readOnlyOption?: ReadOnlyOption
  /**
   * When true, a leader demoted to learner steps down as soon as it applies that change
   * (thesis §4.2.2). Default true (etcd's StepDownOnRemoval defaults to false only for backward
   * compatibility). When false, the demoted leader keeps leading (a learner leader still
   * appends and replicates but does not count itself in quorums) until the next election. A
   * leader removed from the configuration entirely always steps down, whatever this says: it
   * could not append anything any more (not even the leave of a joint config), and its
   * heartbeats would keep the members from electing a leader that can. (etcd keeps such a leader
   * leading and drops its proposals, which can block an auto-leave forever.)
   *
   * A leader stepping down hands over like a leadership transfer (thesis §3.10): a voter of the
   * new config that holds the leader's whole log gets MsgTimeoutNow and campaigns at once, so
   * the group is usually without a leader for one round trip rather than an election timeout.
   * To make sure such a voter exists, from the moment the leader appends a conf change that
   * will make it step down until it applies it, it refuses proposals with ProposalDroppedError
   * 'leader-stepping-down' (clients retry, then reach the next leader): the voters that
   * acknowledged the change then hold its whole log. If none does when it applies the change
   * (a change it inherited as a new leader, with entries after it), it keeps leading for at
   * most one election timeout, still refusing proposals, replicates to the most caught-up voter
   * of the new config and sends it MsgTimeoutNow as soon as it has caught up, stepping down at
   * the latest when that timeout passes. A voter that receives MsgTimeoutNow before it has
   * applied the change (it must not campaign before) campaigns as soon as it has. The cost:
   * writes are refused for the time it takes to commit and apply the change (a round trip and
   * an fsync), and during a handover.
   * Liveness does not depend on that message: the old leader's vote rejections carry its commit
   * index, which lets voters that missed the commit of the change learn it, apply it and elect a
   * leader among themselves (Raft.maybeCommitByVote, as raft-rs does).
   */
  readonly stepDownOnRemoval?: boolean
  /**
   * The source of randomness for election timeouts: returns an integer in [0, n); any other
   * result makes the node throw ConfigInvalidError when it draws a timeout. The core has no
   * randomness of its own, so tests can be deterministic. Default: a small deterministic
   * generator seeded from `id`, which spreads timeouts of different nodes apart. Trade-off: a
   * generator shared by nodes, or one that returns the same value on every node, makes split
   * votes (§5.2) more likely; a server may pass a generator seeded from real entropy.
   */
  readonly random?: (n: number) => number
}

/** A Config with every default filled in. */
export type ResolvedConfig = Required<Config>

/** Default values of the optional fields. */
export const CONFIG_DEFAULTS = Object.freeze({
  electionTick: 10,
  heartbeatTick: 1,
  applied: 0,
  maxSizePerMsg: 1024 * 1024,
  maxInflightMsgs: 256,
  maxInflightBytes: 0,
  maxUncommittedSize: 0,
  maxCommittedSizePerReady: 1024 * 1024,
  checkQuorum: false,
  preVote: false,
  readOnlyOption: 'safe' as ReadOnlyOption,
  stepDownOnRemoval: true,
})

/** The names of every Config field; validateConfig refuses any other key. */
const CONFIG_FIELDS: ReadonlySet<string> = new Set(['id', 'random', ...Object.keys(CONFIG_DEFAULTS)])

/**
 * Returns a deterministic generator of integers in [0, n) seeded by `seed` (mulberry32). Used as
 * the default `random` so that the core never touches Math.random.
 */
export function seededRandom(seed: number): (n: number) => number {
  let state = (seed * 2654435761) >>> 0
  return (n: number) => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296
    return Math.floor(r * n)
  }
}

function checkSafeInt(field: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    throw new ConfigInvalidError(`config.${field} must be a safe integer, got ${String(v)}`)
  }
  if (v < min) {
    throw new ConfigInvalidError(`config.${field} must be >= ${min}, got ${v}`)
  }
  return v
}

function checkBool(field: string, v: unknown): boolean {
  if (typeof v !== 'boolean') {
    throw new ConfigInvalidError(`config.${field} must be a boolean, got ${String(v)}`)
  }
  return v
}

/**
 * Fills in defaults and validates `c` as etcd's Config.validate does, and also refuses keys that
 * are not Config fields. Throws ConfigInvalidError whose message names the offending field.
 */
export function validateConfig(c: Config): ResolvedConfig {
  if (c === null || typeof c !== 'object') throw new ConfigInvalidError('config must be an object')
  for (const k of Object.keys(c)) {
    // A misspelt option (electionTicks, max_size_per_msg) would otherwise silently get its default.
    if (!CONFIG_FIELDS.has(k)) throw new ConfigInvalidError(`config.${k} is not a Config field`)
  }
  const r = {...CONFIG_DEFAULTS, random: seededRandom(Number(c.id) || 1), ...stripUndefined(c)}
  checkSafeInt('id', r.id, 0)
  if (r.id === 0) throw new ConfigInvalidError('config.id cannot be 0 (0 means "no node")')
  checkSafeInt('heartbeatTick', r.heartbeatTick, 1)
  checkSafeInt('electionTick', r.electionTick, 1)
  if (r.electionTick <= r.heartbeatTick) {
    throw new ConfigInvalidError(
      `config.electionTick (${r.electionTick}) must be greater than heartbeatTick (${r.heartbeatTick})`)
  }
  checkSafeInt('applied', r.applied, 0)
  checkSafeInt('maxSizePerMsg', r.maxSizePerMsg, 0)
  checkSafeInt('maxInflightMsgs', r.maxInflightMsgs, 1)
  checkSafeInt('maxInflightBytes', r.maxInflightBytes, 0)
  if (r.maxInflightBytes !== 0 && r.maxInflightBytes < r.maxSizePerMsg) {
    throw new ConfigInvalidError(
      `config.maxInflightBytes (${r.maxInflightBytes}) must be >= maxSizePerMsg (${r.maxSizePerMsg})`)
  }
  checkSafeInt('maxUncommittedSize', r.maxUncommittedSize, 0)
  checkSafeInt('maxCommittedSizePerReady', r.maxCommittedSizePerReady, 0)
  checkBool('checkQuorum', r.checkQuorum)
  checkBool('preVote', r.preVote)
  checkBool('stepDownOnRemoval', r.stepDownOnRemoval)
  if (r.readOnlyOption !== 'safe' && r.readOnlyOption !== 'lease') {
    throw new ConfigInvalidError(`config.readOnlyOption must be 'safe' or 'lease', got ${String(r.readOnlyOption)}`)
  }
  if (r.readOnlyOption === 'lease' && !r.checkQuorum) {
    throw new ConfigInvalidError("config.checkQuorum must be enabled when readOnlyOption is 'lease'")
  }
  if (typeof r.random !== 'function') throw new ConfigInvalidError('config.random must be a function')
  return r
}

function stripUndefined(c: Config): Config {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(c)) if (v !== undefined) out[k] = v
  return out as unknown as Config
}
