/**
 * The safety rules of the Cluster service (etcd's learner design, DESIGN.md §2), checked on the
 * leader before a conf change is proposed, and the ConfChangeV2 each request becomes:
 * - every change of the voter set — adding a voter, promoting a learner, removing or demoting a
 *   voter, a joint change — is refused when the new voter set's quorum could not be formed with
 *   the voters reachable now (checkReachableQuorum; a node being added counts as unreachable),
 *   unless forced (add, promote and change take --force; a removal or demotion is forced
 *   through `member change`). Leaving a joint configuration needs no check: its incoming voters
 *   already had to form a quorum to enter it, and it only drops the outgoing half's quorum
 *   requirement;
 * - at most maxLearners learners exist at once;
 * - a learner is promoted only when its match index is at least 90% of the leader's last index;
 * - promoting a voter is not an error ("already a voter"); neither is demoting a learner;
 * - removing or demoting the last voter is refused, as is any change while a joint config waits
 *   to be left (the core refuses that too, but this says it in the operator's terms).
 * Every refusal is a NodeError: etcd's code and text where etcd has the case (errors.ts), with
 * raftctl's one-sentence explanation as its detail; otherwise raftctl's sentence.
 */
import {MemberChangeRequest_Change_Kind as Kind} from '../generated/raftctl/v1/raftctl.js'
import {
  type ConfChangeSingle, ConfChangeTransition, ConfChangeType, type ConfChangeV2, formatConfState,
} from '../raft/index.js'
import {EndpointError, parseEndpoint} from '../raftpb/address.js'
import type {MemberInfo} from '../storage/records.js'
import {etcdError, failedPrecondition, invalidArgument, notFound} from './errors.js'
import {isJoint, type MembershipView} from './member_status.js'

/** The share of the leader's last index a learner must have replicated to be promoted. */
export const PROMOTE_THRESHOLD = 0.9

/** A conf change ready to propose: the change and the metadata of the members it adds. */
export interface PlannedChange {
  readonly cc: Omit<ConfChangeV2, 'context'>
  readonly added: readonly MemberInfo[]
}

/** A MemberAdd: the new node's id, peer URLs and role (its name and client URLs may come later). */
export interface AddRequest {
  readonly id: number
  readonly name: string
  readonly peerUrls: readonly string[]
  readonly clientUrls: readonly string[]
  readonly isLearner: boolean
  readonly force: boolean
}

/** A MemberChange: `kind` is a MemberChangeRequest.Change.Kind of raftctl.proto. */
export interface ChangeRequest {
  readonly changes: ReadonlyArray<{
    readonly kind: number, readonly id: number, readonly name?: string,
    readonly peerUrls: readonly string[], readonly clientUrls?: readonly string[],
  }>
  readonly transition: number
  readonly force: boolean
}

/** What the rules need besides the membership view. */
export interface RuleContext extends MembershipView {
  readonly maxLearners: number
}

const majority = (n: number): number => Math.floor(n / 2) + 1

/** Checks a node id from a request. */
export function checkMemberId(what: string, id: number): number {
  if (!Number.isSafeInteger(id) || id <= 0) throw invalidArgument(`${what} ${id} is not a node id (an integer from 1 to 2^53-1)`)
  return id
}

/** Parses peer or client URLs of a request into canonical host:port. */
export function checkUrls(what: string, urls: readonly string[]): string[] {
  return urls.map((u) => {
    try {
      return parseEndpoint(what, u).address
    } catch (err) {
      if (err instanceof EndpointError) throw etcdError('memberBadUrls', err.message)
      throw err
    }
  })
}

function isMember(v: RuleContext, id: number): boolean {
  const cs = v.confState
  return cs.voters.includes(id) || cs.learners.includes(id) || cs.votersOutgoing.includes(id) || cs.learnersNext.includes(id)
}

function refuseIfJoint(v: RuleContext): void {
  if (isJoint(v.confState)) {
    throw failedPrecondition('the cluster is in a joint configuration; leave it first (member leave-joint) before another change')
  }
}

/**
 * Refuses a voter set whose quorum the reachable voters could not form, unless forced. Every
 * plan that changes the voters calls it with the voters it leads to (the incoming half of a
 * joint change): a change committed under a quorum that cannot be formed afterwards leaves the
 * cluster without a leader until the missing voters return. `fix` is the refusal's hint: what the
 * operator can do instead, naming the real command and flag for the operation at hand (a test
 * checks that every command and flag a message names exists).
 */
export function checkReachableQuorum(v: RuleContext, incoming: ReadonlySet<number>, what: string, force: boolean, fix: string): void {
  if (force) return
  const reachable = [...incoming].filter((id) => isMember(v, id) && (id === v.selfId || v.isReachable(id))).length
  const need = majority(incoming.size)
  if (reachable < need) {
    throw etcdError('unhealthyCluster', `${what} would leave ${incoming.size} voters, which need ${need} for a quorum, ` +
      `but only ${reachable} of them are reachable now; ${fix}`)
  }
}

function checkLearnerLimit(v: RuleContext, adding: number): void {
  const have = v.confState.learners.length
  if (adding > 0 && have + adding > v.maxLearners) {
    if (adding > 1) {
      throw etcdError('tooManyLearners', `adding ${adding} learners would make ${have + adding} learner(s), but --max-learners is ${v.maxLearners}; ` +
        'add fewer at once, or promote or remove a learner first')
    }
    throw etcdError('tooManyLearners', `the cluster already has ${have} learner(s) and --max-learners is ${v.maxLearners}; ` +
      'promote or remove a learner first')
  }
}

/**
 * Refuses to promote a learner whose match index is below 90% of the leader's last index.
 * `fix` is the refusal's hint, naming the real command and flag for the operation at hand.
 */
export function checkCaughtUp(v: RuleContext, id: number, force: boolean, fix: string): void {
  if (force) return
  const last = v.leaderLastIndex
  const match = id === v.selfId ? last : v.progress?.get(id)?.match ?? 0
  if (last === 0 || match >= PROMOTE_THRESHOLD * last) return
  const pct = Math.floor((match * 100) / last)
  throw etcdError('learnerNotReady', `learner ${id} is not caught up: its match index ${match} is ${pct}% of the leader's last index ` +
    `${last} (${last - match} entries behind); promotion needs at least ${PROMOTE_THRESHOLD * 100}%; ${fix}`)
}

/** Builds the metadata of a new member, refusing an id or peer URL already in use. */
function newMember(v: RuleContext, id: number, name: string, peerUrls: readonly string[], clientUrls: readonly string[]): MemberInfo {
  if (isMember(v, id) || v.members.has(id)) throw etcdError('memberExists', `node ${id} is already a member of the cluster`)
  if (peerUrls.length === 0) throw etcdError('memberBadUrls', `adding node ${id} needs at least one peer URL`)
  const peers = checkUrls(`peer URL of node ${id}`, peerUrls)
  for (const m of v.members.values()) {
    const clash = peers.find((u) => m.peerUrls.includes(u))
    if (clash !== undefined) throw etcdError('peerUrlExists', `peer URL ${clash} is already used by node ${m.id}`)
  }
  // An empty name marks a member that has not started yet (etcd's "unstarted"); the node
  // publishes its name and client URLs when it starts.
  return {id, name, peerUrls: peers, clientUrls: checkUrls(`client URL of node ${id}`, clientUrls)}
}

const single = (type: ConfChangeType, nodeId: number): Omit<ConfChangeV2, 'context'> =>
  ({kind: 'v2', transition: ConfChangeTransition.Auto, changes: [{type, nodeId}]})

/** MemberAdd: a learner (the safe way) or, subject to the quorum check, a voter. */
export function planAdd(v: RuleContext, req: AddRequest): PlannedChange {
  const id = checkMemberId('member id', req.id)
  refuseIfJoint(v)
  const m = newMember(v, id, req.name, req.peerUrls, req.clientUrls)
  if (req.isLearner) {
    checkLearnerLimit(v, 1)
    return {cc: single(ConfChangeType.AddLearnerNode, id), added: [m]}
  }
  checkReachableQuorum(v, new Set([...v.confState.voters, id]), `adding voter ${id}`, req.force,
    'add it as a learner first (member add --learner), or force it (member add --force)')
  return {cc: single(ConfChangeType.AddNode, id), added: [m]}
}

/** MemberPromote: undefined when the member already is a voter (nothing to do). */
export function planPromote(v: RuleContext, id: number, force: boolean): PlannedChange | undefined {
  checkMemberId('member id', id)
  if (!isMember(v, id)) throw etcdError('memberNotFound', `node ${id} is not a member of the cluster`)
  if (v.confState.voters.includes(id)) return undefined
  refuseIfJoint(v)
  checkCaughtUp(v, id, force, 'wait for it (member promote --wait), or force it (member promote --force)')
  checkReachableQuorum(v, new Set([...v.confState.voters, id]), `promoting learner ${id}`, force,
    'start the unreachable voters first, or force it (member promote --force)')
  return {cc: single(ConfChangeType.AddNode, id), added: []}
}

/**
 * MemberDemote: undefined when the member already is a learner. Refused for the last voter and
 * when the remaining voters could not form a quorum (as MemberRemove).
 */
export function planDemote(v: RuleContext, id: number): PlannedChange | undefined {
  checkMemberId('member id', id)
  if (!isMember(v, id)) throw etcdError('memberNotFound', `node ${id} is not a member of the cluster`)
  if (v.confState.learners.includes(id)) return undefined
  refuseIfJoint(v)
  const cs = v.confState
  if (cs.voters.length === 1) throw failedPrecondition(`node ${id} is the only voter; add another voter before demoting it`)
  checkReachableQuorum(v, new Set(cs.voters.filter((x) => x !== id)), `demoting voter ${id}`, false,
    `start the unreachable voters first, or force it (member change --demote ${id} --force)`)
  return {cc: single(ConfChangeType.AddLearnerNode, id), added: []}
}

/** MemberRemove: refused for the last voter and when the remaining voters could not form a quorum. */
export function planRemove(v: RuleContext, id: number): PlannedChange {
  checkMemberId('member id', id)
  if (!isMember(v, id)) throw etcdError('memberNotFound', `node ${id} is not a member of the cluster`)
  refuseIfJoint(v)
  const cs = v.confState
  if (cs.voters.includes(id)) {
    if (cs.voters.length === 1) throw failedPrecondition(`node ${id} is the only voter; the cluster cannot remove its last voter`)
    checkReachableQuorum(v, new Set(cs.voters.filter((x) => x !== id)), `removing voter ${id}`, false,
      `start the unreachable voters first, or force it (member change --remove ${id} --force)`)
  }
  return {cc: single(ConfChangeType.RemoveNode, id), added: []}
}

const TRANSITIONS: Record<number, ConfChangeTransition> = {
  0: ConfChangeTransition.Auto, 1: ConfChangeTransition.Implicit, 2: ConfChangeTransition.Explicit,
}

/** MemberChange: several changes in one step (joint consensus unless one simple change). */
export function planChange(v: RuleContext, req: ChangeRequest): PlannedChange {
  if (req.changes.length === 0) throw invalidArgument('a member change needs at least one change')
  const transition = TRANSITIONS[req.transition]
  if (transition === undefined) throw invalidArgument(`transition ${req.transition} is not Auto, Implicit or Explicit`)
  refuseIfJoint(v)
  const cs = v.confState
  const seen = new Set<number>()
  const changes: ConfChangeSingle[] = []
  const added: MemberInfo[] = []
  const incoming = new Set(cs.voters)
  for (const c of req.changes) {
    const id = checkMemberId('member id', c.id)
    if (seen.has(id)) throw invalidArgument(`node ${id} appears more than once in the change`)
    seen.add(id)
    changes.push(planOne(v, c, id, added, incoming, req.force))
  }
  if (incoming.size === 0) throw failedPrecondition('the change would leave the cluster without voters')
  checkLearnerLimit(v, req.changes.filter((c) => c.kind === Kind.ADD_LEARNER).length)
  checkReachableQuorum(v, incoming, 'this change', req.force, 'start the unreachable voters first, or force it (member change --force)')
  return {cc: {kind: 'v2', transition, changes}, added}
}

function planOne(
  v: RuleContext, c: ChangeRequest['changes'][number], id: number, added: MemberInfo[],
  incoming: Set<number>, force: boolean,
): ConfChangeSingle {
  const cs = v.confState
  switch (c.kind) {
    case Kind.ADD_VOTER:
      if (cs.voters.includes(id)) throw failedPrecondition(`node ${id} is already a voter`)
      if (cs.learners.includes(id)) checkCaughtUp(v, id, force, 'wait for it to catch up, or force it (member change --force)')
      else added.push(newMember(v, id, c.name ?? '', c.peerUrls, c.clientUrls ?? []))
      incoming.add(id)
      return {type: ConfChangeType.AddNode, nodeId: id}
    case Kind.ADD_LEARNER:
      if (cs.voters.includes(id)) throw failedPrecondition(`node ${id} is a voter; use DEMOTE to make it a learner`)
      if (cs.learners.includes(id)) throw failedPrecondition(`node ${id} is already a learner`)
      added.push(newMember(v, id, c.name ?? '', c.peerUrls, c.clientUrls ?? []))
      return {type: ConfChangeType.AddLearnerNode, nodeId: id}
    case Kind.REMOVE:
      if (!isMember(v, id)) throw etcdError('memberNotFound', `node ${id} is not a member of the cluster`)
      incoming.delete(id)
      return {type: ConfChangeType.RemoveNode, nodeId: id}
    case Kind.DEMOTE:
      if (!cs.voters.includes(id)) throw failedPrecondition(`node ${id} is not a voter, so it cannot be demoted`)
      incoming.delete(id)
      return {type: ConfChangeType.AddLearnerNode, nodeId: id}
    default:
      throw invalidArgument(`change for node ${id} has no kind (ADD_VOTER, ADD_LEARNER, REMOVE or DEMOTE)`)
  }
}

/**
 * TransferLeader's target: a member (NOT_FOUND otherwise), a voter (only voters can lead), and
 * one the leader can reach now — a transfer to a node known to be down fails at once instead of
 * after the wait.
 */
export function checkTransferTarget(v: RuleContext, target: number): void {
  const cs = v.confState
  if (!cs.voters.includes(target)) {
    if (!isMember(v, target)) throw notFound(`node ${target} is not a member of the cluster`)
    throw failedPrecondition(`node ${target} is not a voter, so it cannot lead`)
  }
  if (target !== v.selfId && !v.isReachable(target)) {
    throw failedPrecondition(`node ${target} cannot take over leadership: the leader (node ${v.selfId}) cannot reach it now; ` +
      'check that it runs, or choose another voter')
  }
}

/** Why `target` has not taken over yet, as the leader sees its progress now. */
export function transferObstacle(v: RuleContext, target: number): string {
  const pr = v.progress?.get(target)
  if (pr === undefined) return `node ${v.selfId} no longer leads, so it cannot tell why`
  if (!pr.recentActive) return 'the leader has not heard from it for an election timeout (it is down, paused or cut off)'
  if (pr.match < v.leaderLastIndex) return `it is not caught up: its log reaches index ${pr.match}, the leader's ${v.leaderLastIndex}`
  return 'it was caught up and told to campaign, but did not win the election'
}

/** LeaveJoint: refused when the configuration is not joint. */
export function checkLeaveJoint(v: RuleContext): void {
  if (!isJoint(v.confState)) {
    throw failedPrecondition(`the configuration is not joint (${formatConfState(v.confState)}); there is nothing to leave`)
  }
}
