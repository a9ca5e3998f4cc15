/**
 * Whether this node still belongs to the cluster its data dir names, as its own configuration
 * and its peers (PeerInfo.Identify) tell. Two findings stop a node with one line, the same at
 * start (the node refuses to start) and while it runs (it exits), as a MembershipLostError:
 *
 * - FOREIGN_CLUSTER: the peers that answered all belong to another cluster. One answer from this
 *   node's own cluster outweighs any number of foreign ones (a peer address that another
 *   cluster's node took over is that peer's problem, not a reason for a member to stop).
 * - REMOVED: this node's applied configuration no longer names it (it applied its own removal),
 *   or a peer of the same cluster that applied at least as much of the log as this node has a
 *   configuration without it. Both applied the same committed log, so the peer's configuration
 *   is a later state of this node's own: a conf change after this node's applied index removed
 *   it. A node whose configuration does not name it yet — a new learner waiting for its first
 *   snapshot, whose configuration is empty — is never judged removed.
 *
 * Peers that do not answer within the time limit prove nothing and are skipped: a node whose
 * peers are all down starts (and is checked again when they refuse its messages).
 */
import type {IdentifyResponse} from '../generated/raftctl/v1/internal.js'
import {CodedError, type ConfState, formatConfState} from '../raft/index.js'
import {confStateFromWire} from '../raftpb/convert.js'
import {abortable, identify} from './join.js'
import {confStateIds} from './member_status.js'

/** What a node knows of itself when it asks whether it still belongs. */
export interface SelfView {
  readonly id: number
  readonly clusterId: number
  readonly dataDir: string
  /** The configuration after `applied` (EMPTY for a node that has not received any yet). */
  readonly confState: ConfState
  readonly applied: number
}

/** A peer to ask: its node id as this node knows it and its peer address. */
export interface PeerAddress {
  readonly id: number
  readonly address: string
}

/** What one peer answered. */
export interface PeerAnswer {
  readonly address: string
  readonly res: IdentifyResponse
}

export type MembershipLostCode = 'FOREIGN_CLUSTER' | 'REMOVED'

/** This node does not belong to the cluster it serves (see the module comment). */
export class MembershipLostError extends CodedError<MembershipLostCode> {}

const REJOIN_HINT = 'to bring it back, add it again with `raftctl member add` and start it with an empty --data-dir'

const isMember = (cs: ConfState, id: number): boolean => confStateIds(cs).includes(id)

/** The one line of a node that learned it was removed, `how` saying from where. */
function removed(self: SelfView, how: string): MembershipLostError {
  return new MembershipLostError('REMOVED', `node ${self.id} was removed from cluster ${self.clusterId} (${how}), so it stops; ${REJOIN_HINT}`)
}

/** REMOVED when this node's own applied configuration no longer names it. */
export function removedLocally(self: SelfView): MembershipLostError | undefined {
  const ids = confStateIds(self.confState)
  if (ids.length === 0 || ids.includes(self.id)) return undefined
  return removed(self, `its configuration at applied index ${self.applied} is ${formatConfState(self.confState)}`)
}

/** Judges the peers' answers (see the module comment); undefined when nothing is wrong. */
export function judgeAnswers(self: SelfView, answers: readonly PeerAnswer[]): MembershipLostError | undefined {
  const same = answers.filter((a) => a.res.clusterId === self.clusterId)
  const foreign = answers.find((a) => a.res.clusterId !== self.clusterId)
  if (same.length === 0 && foreign !== undefined) {
    return new MembershipLostError('FOREIGN_CLUSTER', `node ${self.id} belongs to cluster ${self.clusterId} (data dir ${self.dataDir}), ` +
      `but its peers belong to cluster ${foreign.res.clusterId} (node ${foreign.res.nodeId} at ${foreign.address} answered), ` +
      `so it stops rather than serve in the wrong cluster; to join cluster ${foreign.res.clusterId}, add it with ` +
      '`raftctl member add` and start it with an empty --data-dir; to run its own cluster, give --initial-cluster that cluster\'s members')
  }
  if (!isMember(self.confState, self.id)) return undefined
  for (const a of same) {
    const cs = confStateFromWire(a.res.confState)
    if (a.res.appliedIndex < self.applied || confStateIds(cs).length === 0 || isMember(cs, self.id)) continue
    return removed(self, `node ${a.res.nodeId} at ${a.address} applied the log up to index ${a.res.appliedIndex}, ` +
      `past this node's ${self.applied}, and its configuration is ${formatConfState(cs)}`)
  }
  return undefined
}

/**
 * After this node applied its own removal: a peer of the same cluster that applied at least as
 * much of the log and whose configuration names this node again, or undefined. Node ids are
 * reused (`member add` of a removed id), so a node that catches up from an older snapshot replays
 * its earlier removal before the entry that added it back; such a peer proves that a later
 * committed entry did, and the node must stay.
 */
export function addedBackByPeer(self: SelfView, answers: readonly PeerAnswer[]): PeerAnswer | undefined {
  return answers.find((a) => a.res.clusterId === self.clusterId && a.res.appliedIndex >= self.applied &&
    isMember(confStateFromWire(a.res.confState), self.id))
}

/** Asks every peer at once, each within `timeoutMs`; returns the answers of those that replied. */
export async function askPeers(self: SelfView, peers: readonly PeerAddress[], timeoutMs: number, signal?: AbortSignal): Promise<PeerAnswer[]> {
  const asked = peers.filter((p) => p.id !== self.id)
  const results = await abortable(Promise.allSettled(asked.map(async (p) => ({address: p.address, res: await identify(p.address, self.id, timeoutMs)}))),
    'asking the peers which cluster they belong to', signal)
  return results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
}

/** The local check, then the peers' answers: the reason this node must stop, or undefined. */
export async function checkMembership(self: SelfView, peers: readonly PeerAddress[], timeoutMs: number, signal?: AbortSignal): Promise<MembershipLostError | undefined> {
  return removedLocally(self) ?? judgeAnswers(self, await askPeers(self, peers, timeoutMs, signal))
}

/** The peers of a data dir: its members' peer addresses and those of `extra` (e.g. --initial-cluster), each once. */
export function peerAddresses(selfId: number, members: ReadonlyArray<{id: number, peerUrls: readonly string[]}>,
  extra: ReadonlyArray<{id: number, peerUrl: string}> = []): PeerAddress[] {
  const out = new Map<string, PeerAddress>()
  for (const m of members) if (m.id !== selfId && m.peerUrls.length > 0) out.set(m.peerUrls[0], {id: m.id, address: m.peerUrls[0]})
  for (const m of extra) if (m.id !== selfId && !out.has(m.peerUrl)) out.set(m.peerUrl, {id: m.id, address: m.peerUrl})
  return [...out.values()]
}
