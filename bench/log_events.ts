/**
 * What the cluster benchmarks read from the nodes' JSON log lines (whose `time` is an ISO 8601
 * timestamp): when snapshots were built, and how soon a leader's stream to a peer was accepted
 * after that peer was serving.
 */
import type {NodeProc} from '../test/integration/harness.js'
import type {Window} from './load.js'

/** The time of a log line in ms since the epoch. */
export const eventTime = (e: Record<string, unknown>): number => Date.parse(String(e.time))
const time = eventTime

/** One window per snapshot any of `nodes` built after `since`: [end - ms, end]. */
export function snapshotWindows(nodes: readonly NodeProc[], since: number): Window[] {
  return nodes.flatMap((n) => n.events('snapshot-created')
    .filter((e) => time(e) >= since)
    .map((e) => ({start: time(e) - (e.ms as number), end: time(e)})))
    .sort((a, b) => a.start - b.start)
}

/**
 * Milliseconds from the first time `peer` logged `serving` at or after `since` until `leader`
 * logged that its stream to the peer was accepted (logged when the peer had been unreachable);
 * undefined until both happened.
 */
export function reconnectDelay(leader: NodeProc, peer: NodeProc, since: number): number | undefined {
  const serving = peer.events('serving').find((e) => time(e) >= since)
  if (serving === undefined) return undefined
  const accepted = leader.events('peer-stream-accepted').find((e) => e.peer === peer.spec.id && time(e) >= since)
  return accepted === undefined ? undefined : time(accepted) - time(serving)
}

/**
 * How soon after a new learner was serving the leader's stream to it was accepted; undefined
 * when the leader never found it unreachable (then the acceptance is not logged at info).
 */
export function learnerReach(leader: NodeProc, learner: NodeProc): number | undefined {
  return reconnectDelay(leader, learner, 0)
}
