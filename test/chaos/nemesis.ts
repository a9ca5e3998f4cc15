/**
 * The nemeses of a chaos run, each a loop that runs until stopped and records what it did in the
 * timeline (`<out>/nemesis.json`):
 *
 * - kill: SIGKILL a node (the leader or a random one), restart it 1–4 s later.
 * - partition: cut links through the proxy for 1–4 s: isolate the leader, split the nodes into a
 *   majority and a minority, or cut one direction only (the leader's outgoing links, or one
 *   random directed link).
 * - slow: delay every link of one or two nodes (or of all) by 20–250 ms in both directions.
 * - pause: SIGSTOP a node (the leader or a random one), SIGCONT it 1–4 s later.
 * - members: membership churn through the CLI (members.ts).
 *
 * The fault nemeses (kill, partition, slow, pause) take turns in one loop (in shuffled rounds),
 * one fault at a time, healed before the next; the members loop runs beside it, so faults
 * combine with churn. A node a loop is working on is locked so the other leaves it alone.
 */
import type {ChaosCluster, ChaosNode} from './cluster.js'
import type {Rng} from './rng.js'
import {nowNs} from './workload.js'

export const FAULTS = ['kill', 'partition', 'slow', 'pause'] as const
export const NEMESES = [...FAULTS, 'members'] as const
export type NemesisName = (typeof NEMESES)[number]

/** One entry of the nemesis timeline. */
export interface NemesisEvent {
  /** Nanoseconds since the start of the run (the history's clock). */
  readonly time: number
  readonly nemesis: NemesisName | 'heal'
  readonly action: string
  readonly nodes?: readonly number[]
  /** For CLI steps: whether the command succeeded, and its error line when not. */
  readonly ok?: boolean
  readonly error?: string
}

/** What the loops share. */
export interface NemesisContext {
  readonly cluster: ChaosCluster
  readonly t0: bigint
  readonly timeline: NemesisEvent[]
  /** Nodes a loop is working on. */
  readonly locked: Set<number>
  /** Node ids in the cluster's configuration (kept current by the members loop). */
  members: Set<number>
  stop(): boolean
}

export function record(ctx: NemesisContext, e: Omit<NemesisEvent, 'time'>): void {
  ctx.timeline.push({time: nowNs(ctx.t0), ...e})
}

/** Sleeps `ms`, waking early (within 100 ms) when the run stops. */
export async function pause(ms: number, stop: () => boolean): Promise<void> {
  const end = Date.now() + ms
  while (!stop() && Date.now() < end) await new Promise((r) => setTimeout(r, Math.min(100, end - Date.now())))
}

/** Running member nodes not locked by another loop. */
function candidates(ctx: NemesisContext): ChaosNode[] {
  return [...ctx.cluster.nodes.values()].filter((n) => n.state === 'running' && ctx.members.has(n.id) && !ctx.locked.has(n.id))
}

/** The leader when it is a candidate and the coin says so, else a random candidate. */
async function target(ctx: NemesisContext, rng: Rng): Promise<ChaosNode | undefined> {
  const nodes = candidates(ctx)
  if (nodes.length === 0) return undefined
  if (rng.chance(0.5)) {
    const leader = await ctx.cluster.leader()
    const l = nodes.find((n) => n.id === leader)
    if (l !== undefined) return l
  }
  return rng.pick(nodes)
}

type Heal = () => Promise<void>

async function kill(ctx: NemesisContext, rng: Rng): Promise<Heal | undefined> {
  const n = await target(ctx, rng)
  if (n === undefined) return undefined
  ctx.locked.add(n.id)
  await n.kill()
  record(ctx, {nemesis: 'kill', action: 'kill -9', nodes: [n.id]})
  return async () => {
    n.restart()
    ctx.locked.delete(n.id)
    record(ctx, {nemesis: 'heal', action: 'restart', nodes: [n.id]})
  }
}

async function stopCont(ctx: NemesisContext, rng: Rng): Promise<Heal | undefined> {
  const n = await target(ctx, rng)
  if (n === undefined) return undefined
  ctx.locked.add(n.id)
  n.signal('SIGSTOP')
  n.state = 'paused'
  record(ctx, {nemesis: 'pause', action: 'SIGSTOP', nodes: [n.id]})
  return async () => {
    n.signal('SIGCONT')
    n.state = 'running'
    ctx.locked.delete(n.id)
    record(ctx, {nemesis: 'heal', action: 'SIGCONT', nodes: [n.id]})
  }
}

const healLinks = (ctx: NemesisContext): Heal => async () => {
  ctx.cluster.proxy.healAll()
  record(ctx, {nemesis: 'heal', action: 'heal all links'})
}

/** Cuts every link between the two groups, both ways. */
function split(ctx: NemesisContext, a: readonly number[], b: readonly number[]): void {
  for (const x of a) for (const y of b) {
    ctx.cluster.proxy.cut(x, y)
    ctx.cluster.proxy.cut(y, x)
  }
}

async function partition(ctx: NemesisContext, rng: Rng): Promise<Heal | undefined> {
  const ids = [...ctx.cluster.nodes.keys()]
  const members = ids.filter((id) => ctx.members.has(id))
  const leader = await ctx.cluster.leader()
  const variant = rng.pick(['isolate-leader', 'majority-minority', 'one-way-leader', 'one-way-link'] as const)
  if (variant === 'isolate-leader' && leader !== 0) {
    split(ctx, [leader], ids.filter((id) => id !== leader))
    record(ctx, {nemesis: 'partition', action: 'isolate the leader', nodes: [leader]})
  } else if (variant === 'one-way-leader' && leader !== 0) {
    for (const id of ids) if (id !== leader) ctx.cluster.proxy.cut(leader, id)
    record(ctx, {nemesis: 'partition', action: 'cut the leader\'s outgoing links (one way)', nodes: [leader]})
  } else if (variant === 'one-way-link' && members.length >= 2) {
    const from = rng.pick(members)
    const to = rng.pick(members.filter((id) => id !== from))
    ctx.cluster.proxy.cut(from, to)
    record(ctx, {nemesis: 'partition', action: `cut the link ${from}->${to} (one way)`, nodes: [from, to]})
  } else {
    const shuffled = [...members].sort(() => rng.next() - 0.5)
    const minority = shuffled.slice(0, Math.max(1, Math.floor((shuffled.length - 1) / 2)))
    split(ctx, minority, ids.filter((id) => !minority.includes(id)))
    record(ctx, {nemesis: 'partition', action: 'split off a minority', nodes: minority})
  }
  return healLinks(ctx)
}

async function slow(ctx: NemesisContext, rng: Rng): Promise<Heal | undefined> {
  const ids = [...ctx.cluster.nodes.keys()]
  const ms = rng.int(20, 250)
  const slowed = rng.chance(0.3) ? ids : [...ids].sort(() => rng.next() - 0.5).slice(0, rng.int(1, 2))
  for (const x of slowed) for (const y of ids) {
    if (x === y) continue
    ctx.cluster.proxy.delay(x, y, ms)
    ctx.cluster.proxy.delay(y, x, ms)
  }
  record(ctx, {nemesis: 'slow', action: `delay every link of these nodes by ${ms} ms`, nodes: slowed})
  return healLinks(ctx)
}

const APPLY: Record<(typeof FAULTS)[number], (ctx: NemesisContext, rng: Rng) => Promise<Heal | undefined>> = {
  kill, partition, slow, pause: stopCont,
}

/**
 * The fault loop: one fault at a time, held 1–4 s, healed, then 1–3 s of calm. The kinds are
 * taken in rounds, each round a shuffle of `kinds`, so even a short run sees every kind.
 */
export async function faultLoop(ctx: NemesisContext, kinds: ReadonlyArray<(typeof FAULTS)[number]>, rng: Rng): Promise<void> {
  if (kinds.length === 0) return
  let round: Array<(typeof FAULTS)[number]> = []
  for (let i = 0; i < 100_000 && !ctx.stop(); i++) {
    await pause(rng.int(1000, 3000), ctx.stop)
    if (ctx.stop()) break
    if (round.length === 0) round = [...kinds].sort(() => rng.next() - 0.5)
    const heal = await APPLY[round.shift()!](ctx, rng)
    if (heal === undefined) continue
    await pause(rng.int(1000, 4000), ctx.stop)
    await heal()
  }
}
