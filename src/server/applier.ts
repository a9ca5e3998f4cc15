/**
 * Applies committed entries to the state machine, in log order, each in one synced batch with
 * the new applied index (RaftStorage.commitApplied):
 * - a normal entry marked as a server request changes a member's attributes;
 * - any other normal entry is a KV request (KvStore.apply; the leader's empty entry only
 *   advances the applied index);
 * - a conf change goes through RawNode.applyConfChange, and the resulting ConfState is persisted
 *   with the member metadata of its context: members the change adds are written, members no
 *   longer in the ConfState are deleted. A change the core refuses at apply time changes
 *   nothing but the applied index, and its proposer receives the error.
 * The proposer of each entry, if it waits on this node, is settled by the request id the entry
 * carries (and, for a proposal this node appended as leader, by its (index, term): proposals.ts).
 *
 * A node that applies its own removal (typically the leader, which steps down then, thesis
 * §4.2.2) receives no further entries, so proposals it still tracks — entries it appended after
 * the removal — can never be settled here; once the batch holding the removal is applied they
 * are answered at once as having an unknown outcome (the new leader may still commit them),
 * instead of hanging until their deadline.
 */
import {status} from '@grpc/grpc-js'
import {type ApplyResult, KvError, type KvStore} from '../kv/index.js'
import {
  type AnyConfChange, asV2, ConfChangeError, ConfChangeType, type ConfState, decodeConfChange,
  type Entry, EntryType, type RawNode,
} from '../raft/index.js'
import type {MemberInfo, RaftStorage} from '../storage/index.js'
import {etcdError, NodeError} from './errors.js'
import {decodeConfContext, decodeServerRequest, isServerEntry, mergeAttributes} from './internal.js'
import type {NodeLogger} from './logger.js'
import {confStateIds} from './member_status.js'
import type {AppliedWaiters, ProposalWaits} from './proposals.js'

/** What a proposal resolves with once its entry is applied. */
export type ProposalResult =
  | {readonly kind: 'kv', readonly result: ApplyResult}
  | {readonly kind: 'conf', readonly confState: ConfState}
  | {readonly kind: 'server'}

export interface ApplierDeps {
  readonly storage: RaftStorage
  readonly kv: KvStore
  readonly log: NodeLogger
  readonly proposals: ProposalWaits<ProposalResult>
  readonly applied: AppliedWaiters
  /** Called after member metadata or the ConfState changed (the node re-syncs its peers). */
  readonly onMembershipChanged: (cs: ConfState) => void
}

/** What applying one entry gives its proposer, and the request id the entry carries (if any). */
type Outcome = {result?: ProposalResult, error?: Error, requestId?: number}

const lost = (): Error => etcdError('leaderChanged',
  'the request was lost in a leader change and never applied; it is safe to send it again', {retrySafe: true})

export class Applier {
  constructor(private readonly d: ApplierDeps) {}

  /** Applies `entries` in order; resolves once every one is durable. */
  async apply(rn: RawNode, entries: readonly Entry[]): Promise<void> {
    let removedAt: number | undefined
    for (const e of entries) {
      let outcome: Outcome
      if (e.entryType === EntryType.EntryNormal) {
        outcome = isServerEntry(e.context) ? await this.applyServerRequest(e) : await this.applyKv(e)
      } else {
        outcome = await this.applyConfEntry(rn, e)
        if (outcome.result?.kind === 'conf' && !confStateIds(outcome.result.confState).includes(this.d.storage.nodeId)) removedAt = e.index
      }
      this.d.proposals.applied(e.index, e.term, outcome.requestId, outcome, lost)
      this.d.applied.advance(e.index)
    }
    if (removedAt !== undefined && this.d.proposals.size > 0) {
      const id = this.d.storage.nodeId
      this.d.proposals.rejectAll(new NodeError(status.UNAVAILABLE, `node ${id} was removed from the cluster (at index ${removedAt}) ` +
        'before the request was applied, so its outcome is unknown; read the keys to check'))
    }
  }

  private async applyKv(e: Entry): Promise<Outcome> {
    const r = await this.d.kv.apply(e)
    if (r.error !== undefined) return {error: r.error, requestId: r.requestId}
    return {result: {kind: 'kv', result: r}, requestId: r.requestId}
  }

  private async applyServerRequest(e: Entry): Promise<Outcome> {
    const s = this.d.storage
    let req
    try {
      req = decodeServerRequest(e.data)
    } catch (err) {
      this.d.log.error({event: 'entry-undecodable', index: e.index, reason: (err as Error).message}, 'a server request in the log does not decode; applied as a no-op')
      await s.exclusive(() => s.commitApplied(e.index, e.term, []))
      return {error: new KvError('INVALID_REQUEST', (err as Error).message)}
    }
    const old = s.member(req.attributes.id)
    const updated = old === undefined ? undefined : mergeAttributes(old, req.attributes)
    await s.exclusive(() => s.commitApplied(e.index, e.term, [], updated === undefined ? undefined : {putMembers: [updated]}))
    const requestId = req.requestId
    if (updated === undefined) return {error: etcdError('memberNotFound', `node ${req.attributes.id} is not a member of the cluster`), requestId}
    this.d.log.info({event: 'member-updated', index: e.index, member: updated.id, memberName: updated.name,
      peerUrls: updated.peerUrls, clientUrls: updated.clientUrls}, 'member attributes updated')
    this.d.onMembershipChanged(s.confState)
    return {result: {kind: 'server'}, requestId}
  }

  private async applyConfEntry(rn: RawNode, e: Entry): Promise<Outcome> {
    const s = this.d.storage
    const before = s.confState
    let cc: AnyConfChange
    let cs: ConfState
    try {
      cc = decodeConfChange(e)
    } catch (err) {
      if (!(err instanceof ConfChangeError)) throw err
      return this.refuseConfEntry(e, err)
    }
    const {members, requestId} = this.confContext(e, cc)
    try {
      cs = rn.applyConfChange(cc)
    } catch (err) {
      if (!(err instanceof ConfChangeError)) throw err
      return {...await this.refuseConfEntry(e, err), requestId}
    }
    const ids = new Set(confStateIds(cs))
    const putMembers = members.filter((m) => ids.has(m.id))
    const removeMembers = s.members().map((m) => m.id).filter((id) => !ids.has(id))
    await s.applyConfChange(e.index, e.term, {confState: cs, putMembers, removeMembers})
    this.logConfChange(e, cc, before, cs)
    this.d.onMembershipChanged(cs)
    return {result: {kind: 'conf', confState: cs}, requestId}
  }

  /**
   * The member metadata and request id a conf change carries; none when its context does not
   * decode (the change is still applied, identically on every replica).
   */
  private confContext(e: Entry, cc: AnyConfChange): {members: readonly MemberInfo[], requestId?: number} {
    try {
      const ctx = decodeConfContext(cc.context)
      return {members: ctx.members, requestId: ctx.requestId === 0 ? undefined : ctx.requestId}
    } catch (err) {
      this.d.log.error({event: 'conf-context-undecodable', index: e.index, reason: (err as Error).message},
        'the member metadata of a conf change does not decode; the change is applied without it')
      return {members: []}
    }
  }

  /** A conf change the core refuses at apply time changes nothing but the applied index. */
  private async refuseConfEntry(e: Entry, err: ConfChangeError): Promise<Outcome> {
    const s = this.d.storage
    this.d.log.warn({event: 'conf-change-refused', index: e.index, reason: err.message}, 'conf change refused at apply time; nothing changed')
    await s.exclusive(() => s.commitApplied(e.index, e.term, []))
    return {error: err}
  }

  private logConfChange(e: Entry, cc: AnyConfChange, before: ConfState, cs: ConfState): void {
    const changes = asV2(cc).changes.map((c) => `${ConfChangeType[c.type]}(${c.nodeId})`)
    this.d.log.info({
      event: 'conf-change-applied', index: e.index, term: e.term, changes,
      voters: cs.voters, learners: cs.learners, votersOutgoing: cs.votersOutgoing,
      learnersNext: cs.learnersNext, autoLeave: cs.autoLeave, votersBefore: before.voters,
    }, changes.length === 0 ? 'left the joint configuration' : 'conf change applied')
  }
}
