/**
 * The members nemesis: membership churn through the CLI while the load runs. Each step reads the
 * configuration (the leader's member list) and does the one change that fits it:
 *
 * - joint configuration → `member leave-joint` (the explicit leave of a change made before);
 * - a learner L → `member promote L --wait`, or a joint swap `member change --add-voter L
 *   --demote V --explicit --yes` (left by the next step), or `member remove L --yes`;
 * - a node id outside the configuration → `member add ID --learner ...`, then the node is started
 *   (its data dir wiped first) with `--initial-cluster-state existing` and every member in
 *   `--initial-cluster`;
 * - otherwise (every node a voter) → `member demote V --yes` or `member remove V --yes`.
 *
 * A removed node is killed and its data dir wiped, so its id can be added again later. Refusals
 * and timeouts are expected under faults; they are recorded and the next step reads the
 * configuration again.
 */
import type {ConfState} from '../../src/generated/eraftpb.js'
import {RaftctlClient} from '../../src/client/index.js'
import type {CliResult} from '../commands/cli_harness.js'
import {type NemesisContext, pause, record} from './nemesis.js'
import type {Rng} from './rng.js'

export interface Config {
  readonly conf: ConfState
  readonly peers: Map<number, string>
}

export async function readConfig(c: RaftctlClient): Promise<Config | undefined> {
  const r = await c.memberList({linearizable: true}).catch(() => undefined)
  if (r?.confState === undefined) return undefined
  return {conf: r.confState, peers: new Map(r.members.flatMap((m) => (m.member === undefined ? [] : [[m.member.id, m.member.peerUrls[0] ?? '']])))}
}

export const inConfig = (cs: ConfState): number[] => [...new Set([...cs.voters, ...cs.learners, ...cs.votersOutgoing, ...cs.learnersNext])]

const errorLine = (r: CliResult): string => (r.stderr.trim().split('\n').find((l) => l.startsWith('Error')) ?? r.stderr.trim().split('\n').at(-1) ?? `exit ${r.code}`)

/** Runs one membership command and records it; returns whether it succeeded. */
async function step(ctx: NemesisContext, action: string, args: readonly string[], nodes: readonly number[]): Promise<boolean> {
  const r = await ctx.cluster.cli(args, 40_000)
  const ok = r.code === 0
  record(ctx, {nemesis: 'members', action, nodes, ok, ...(ok ? {} : {error: errorLine(r)})})
  return ok
}

/** Adds node `id` as a learner and starts it from a wiped data dir. */
async function addLearner(ctx: NemesisContext, c: RaftctlClient, id: number): Promise<void> {
  const n = ctx.cluster.node(id)
  await n.kill()
  n.wipe()
  const ok = await step(ctx, `member add ${id} --learner`,
    ['member', 'add', String(id), '--learner', '--peer-url', n.peer, '--client-url', n.client], [id])
  if (!ok) return
  const peers = (await readConfig(c))?.peers ?? new Map<number, string>()
  peers.set(id, n.peer)
  n.start(['--initial-cluster', initialCluster(peers), '--initial-cluster-state', 'existing'])
  record(ctx, {nemesis: 'members', action: `start node ${id} with --initial-cluster-state existing`, nodes: [id]})
}

/** Removes `id` through the CLI; on success kills the node and wipes its data dir. */
async function remove(ctx: NemesisContext, id: number): Promise<void> {
  if (await step(ctx, `member remove ${id}`, ['member', 'remove', String(id), '--yes'], [id])) {
    const n = ctx.cluster.node(id)
    await n.kill()
    n.wipe()
    ctx.members.delete(id)
  }
}

/**
 * Starts every member of the configuration that is stopped and not locked by the fault loop: one
 * added by a `member add` whose answer was lost (its data dir is fresh: started with
 * --initial-cluster-state existing), or one killed by an earlier step.
 */
export function startMembers(ctx: NemesisContext, cfg: Config): void {
  for (const id of inConfig(cfg.conf)) {
    const n = ctx.cluster.nodes.get(id)
    if (n === undefined || n.state !== 'stopped' || ctx.locked.has(id)) continue
    if (n.proc !== undefined && !n.wiped) n.restart()
    else n.start(['--initial-cluster', initialCluster(cfg.peers), '--initial-cluster-state', 'existing'])
    record(ctx, {nemesis: 'members', action: `start member ${id}, which was not running`, nodes: [id]})
  }
}

const initialCluster = (peers: Map<number, string>): string => [...peers].sort((a, b) => a[0] - b[0]).map(([i, p]) => `${i}=${p}`).join(',')

/** Does the one membership change that fits the current configuration. */
async function churn(ctx: NemesisContext, c: RaftctlClient, rng: Rng): Promise<void> {
  const cfg = await readConfig(c)
  if (cfg === undefined) return
  const cs = cfg.conf
  ctx.members = new Set(inConfig(cs))
  startMembers(ctx, cfg)
  const free = (id: number): boolean => !ctx.locked.has(id)
  if (cs.votersOutgoing.length > 0) {
    await step(ctx, 'member leave-joint', ['member', 'leave-joint'], [])
    return
  }
  const learner = cs.learners.find(free)
  const outside = [...ctx.cluster.nodes.keys()].filter((id) => !ctx.members.has(id) && free(id))
  const voters = cs.voters.filter(free)
  if (learner !== undefined) {
    const r = rng.next()
    const other = voters.filter((v) => v !== learner)
    if (r < 0.4) await step(ctx, `member promote ${learner}`, ['member', 'promote', String(learner), '--wait', '--wait-timeout', '20s'], [learner])
    else if (r < 0.75 && other.length > 0) {
      const v = rng.pick(other)
      await step(ctx, `member change --add-voter ${learner} --demote ${v} --explicit`,
        ['member', 'change', '--add-voter', String(learner), '--demote', String(v), '--explicit', '--yes'], [learner, v])
    } else await remove(ctx, learner)
  } else if (outside.length > 0) {
    await addLearner(ctx, c, rng.pick(outside))
  } else if (voters.length > 0 && cs.voters.length > 3) {
    const v = rng.pick(voters)
    if (rng.chance(0.5)) await step(ctx, `member demote ${v}`, ['member', 'demote', String(v), '--yes'], [v])
    else await remove(ctx, v)
  }
}

/** The members loop: a churn step every 2–5 s until the run stops. */
export async function membersLoop(ctx: NemesisContext, rng: Rng): Promise<void> {
  const c = new RaftctlClient({endpoints: ctx.cluster.endpoints, timeoutMs: 5000})
  try {
    for (let i = 0; i < 100_000 && !ctx.stop(); i++) {
      await pause(rng.int(2000, 5000), ctx.stop)
      if (ctx.stop()) break
      await churn(ctx, c, rng)
    }
  } finally {
    c.close()
  }
}

/**
 * After the run: leaves a joint configuration the churn left behind (retried, bounded), and
 * returns the ids in the final configuration.
 */
export async function settleMembership(ctx: NemesisContext, timeoutMs: number): Promise<number[]> {
  const c = new RaftctlClient({endpoints: ctx.cluster.endpoints, timeoutMs: 5000})
  const deadline = Date.now() + timeoutMs
  try {
    for (let i = 0; i < 50 && Date.now() < deadline; i++) {
      const cfg = await readConfig(c)
      if (cfg !== undefined && cfg.conf.votersOutgoing.length === 0) return inConfig(cfg.conf)
      if (cfg !== undefined) await step(ctx, 'member leave-joint (settling)', ['member', 'leave-joint'], [])
      await new Promise((r) => setTimeout(r, 500))
    }
  } finally {
    c.close()
  }
  throw new Error(`the configuration did not settle (leave the joint configuration) within ${timeoutMs} ms`)
}
