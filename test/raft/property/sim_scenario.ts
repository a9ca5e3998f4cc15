/**
 * Randomly generated scenarios for the Raft simulator: the group's shape and config, and a list
 * of actions (ticks, Ready handling, message delivery in any order or as a whole ordered round,
 * drops, duplicates,
 * partitions, crashes and restarts, proposals, conf changes (also the leader demoting or
 * removing itself), compactions, campaigns, leadership transfers). Node numbers n in actions are in 1..60 and name node ((n-1) mod size)+1,
 * so that every node is equally likely and fast-check can shrink a failing scenario freely.
 */
import fc from 'fast-check'
import {ConfChangeTransition, ConfChangeType} from '../../../src/raft/types.js'

/** One membership operation of a generated conf change (node modulo the group size, see Action). */
export interface ChangeSpec {
  readonly type: ConfChangeType
  readonly node: number
}

export type Action =
  | {readonly t: 'tick'; readonly n: number}
  | {readonly t: 'tickAll'}
  | {readonly t: 'ready'; readonly n: number}
  | {readonly t: 'readyAll'}
  | {readonly t: 'deliver'; readonly k: number}
  | {readonly t: 'deliverAll'}
  | {readonly t: 'round'}
  | {readonly t: 'drop'; readonly k: number}
  | {readonly t: 'dup'; readonly k: number}
  | {readonly t: 'partition'; readonly mask: number}
  | {readonly t: 'heal'}
  | {readonly t: 'crash'; readonly n: number}
  | {readonly t: 'crashMidReady'; readonly n: number; readonly apply: number}
  | {readonly t: 'restart'; readonly n: number}
  | {readonly t: 'propose'; readonly n: number}
  | {readonly t: 'confChange'; readonly n: number; readonly v1: boolean; readonly transition: ConfChangeTransition;
      readonly changes: readonly ChangeSpec[]}
  | {readonly t: 'leaveJoint'; readonly n: number}
  | {readonly t: 'compact'; readonly n: number; readonly back: number}
  | {readonly t: 'campaign'; readonly n: number}
  | {readonly t: 'transfer'; readonly n: number; readonly to: number}
  | {readonly t: 'leaderLeaves'; readonly demote: boolean; readonly v1: boolean; readonly transition: ConfChangeTransition}

/** A whole scenario: the group, its config and the actions. */
export interface Scenario {
  /** Number of nodes, 3..5; ids 1..nodes. */
  readonly nodes: number
  /** Ids 1..voters are the initial voters. */
  readonly voters: number
  /** The next `learners` ids are initial learners; the remaining ids start empty (spares). */
  readonly learners: number
  readonly preVote: boolean
  readonly checkQuorum: boolean
  /** Config.stepDownOnRemoval of every node (the core's default is true). */
  readonly stepDownOnRemoval: boolean
  /** Seeds the nodes' election-timeout randomness. */
  readonly seed: number
  readonly actions: readonly Action[]
}

// Unbiased, and 60 is a multiple of 3, 4 and 5, so every node of a group is equally likely.
const node = fc.noBias(fc.integer({min: 1, max: 60}))
const pick = fc.noBias(fc.nat({max: 1_000_000}))

const changeArb: fc.Arbitrary<ChangeSpec> = fc.record({
  type: fc.constantFrom(ConfChangeType.AddNode, ConfChangeType.AddLearnerNode, ConfChangeType.RemoveNode,
    ConfChangeType.AddNode, ConfChangeType.AddLearnerNode, ConfChangeType.UpdateNode),
  node,
})

const confChangeArb = fc.record({
  t: fc.constant('confChange' as const),
  n: node,
  v1: fc.boolean(),
  transition: fc.constantFrom(ConfChangeTransition.Auto, ConfChangeTransition.Auto, ConfChangeTransition.Implicit,
    ConfChangeTransition.Explicit),
  changes: fc.array(changeArb, {minLength: 1, maxLength: 2}),
})

/** The actions with their weights: delivery and Ready handling dominate, faults are rarer. */
export const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {arbitrary: fc.record({t: fc.constant('tick' as const), n: node}), weight: 6},
  {arbitrary: fc.constant({t: 'tickAll' as const}), weight: 8},
  {arbitrary: fc.constant({t: 'round' as const}), weight: 20},
  {arbitrary: fc.record({t: fc.constant('ready' as const), n: node}), weight: 10},
  {arbitrary: fc.constant({t: 'readyAll' as const}), weight: 14},
  {arbitrary: fc.record({t: fc.constant('deliver' as const), k: pick}), weight: 25},
  {arbitrary: fc.constant({t: 'deliverAll' as const}), weight: 6},
  {arbitrary: fc.record({t: fc.constant('drop' as const), k: pick}), weight: 3},
  {arbitrary: fc.record({t: fc.constant('dup' as const), k: pick}), weight: 2},
  {arbitrary: fc.record({t: fc.constant('partition' as const), mask: fc.nat({max: 31})}), weight: 1},
  {arbitrary: fc.constant({t: 'heal' as const}), weight: 2},
  {arbitrary: fc.record({t: fc.constant('crash' as const), n: node}), weight: 1},
  {arbitrary: fc.record({t: fc.constant('crashMidReady' as const), n: node, apply: fc.nat({max: 3})}), weight: 1},
  {arbitrary: fc.record({t: fc.constant('restart' as const), n: node}), weight: 4},
  {arbitrary: fc.record({t: fc.constant('propose' as const), n: node}), weight: 8},
  {arbitrary: confChangeArb, weight: 4},
  {arbitrary: fc.record({t: fc.constant('leaveJoint' as const), n: node}), weight: 1},
  {arbitrary: fc.record({t: fc.constant('compact' as const), n: node, back: fc.nat({max: 3})}), weight: 2},
  {arbitrary: fc.record({t: fc.constant('campaign' as const), n: node}), weight: 2},
  {arbitrary: fc.record({t: fc.constant('transfer' as const), n: node, to: node}), weight: 1},
  // The current leader demotes or removes itself (thesis §4.2.2), the riskiest membership change.
  {arbitrary: fc.record({
    t: fc.constant('leaderLeaves' as const), demote: fc.boolean(), v1: fc.boolean(),
    transition: fc.constantFrom(ConfChangeTransition.Auto, ConfChangeTransition.Implicit, ConfChangeTransition.Explicit),
  }), weight: 2},
)

/** Scenarios of 3..5 nodes with `minActions..maxActions` actions. */
export function scenarioArb(minActions: number, maxActions: number): fc.Arbitrary<Scenario> {
  return fc.integer({min: 3, max: 5}).chain((nodes) => fc.record({
    nodes: fc.constant(nodes),
    voters: fc.integer({min: 1, max: nodes}),
    learners: fc.nat({max: nodes}),
    preVote: fc.boolean(),
    checkQuorum: fc.boolean(),
    stepDownOnRemoval: fc.boolean(),
    seed: fc.nat({max: 0xffff}),
    actions: fc.array(actionArb, {minLength: minActions, maxLength: maxActions, size: 'max'}),
  }))
}

/** A one-line description of an action, for traces. */
export function describeAction(a: Action): string {
  const {t, ...rest} = a
  const args = Object.entries(rest).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')
  return args === '' ? t : `${t} ${args}`
}
