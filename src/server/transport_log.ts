/**
 * Turns the transport's events into node log lines. Events that recur while a peer stays down
 * (a failed reconnect every few seconds, dropped messages) are logged once at warn when the peer
 * becomes unreachable and then at debug until its stream is accepted again, so a dead peer
 * produces one line, not one per retry. Refusals (a removed member still calling, a node of
 * another cluster) are logged at warn once per peer, event and status code every
 * REFUSAL_REPEAT_MS, and at debug in between.
 */
import type {TransportLogger} from '../transport/index.js'
import type {NodeLogger} from './logger.js'

const INFO = new Set([
  'peer-added', 'peer-removed', 'peer-address-updated', 'peer-server-listening',
  'snapshot-sending', 'snapshot-sent', 'snapshot-receiving',
])
const WARN = new Set(['snapshot-send-failed', 'snapshot-receive-failed', 'peer-message-too-large', 'peer-unknown'])

/** How often a repeated refusal of the same peer is logged at warn. */
export const REFUSAL_REPEAT_MS = 60_000
const REFUSALS = new Set(['peer-refused', 'peer-stream-refused'])

export function transportLogger(log: NodeLogger, now: () => number = Date.now): TransportLogger {
  const down = new Set<number>()
  const refusedAt = new Map<string, number>()
  return (event, fields) => {
    const peer = typeof fields.peer === 'number' ? fields.peer : undefined
    const line = {event, ...fields}
    if (REFUSALS.has(event)) {
      const key = `${event}/${peer ?? '?'}/${String(fields.code)}`
      const last = refusedAt.get(key)
      if (last !== undefined && now() - last < REFUSAL_REPEAT_MS) {
        log.debug(line, event)
        return
      }
      refusedAt.set(key, now())
      log.warn(line, event === 'peer-refused'
        ? `refused a ${String(fields.call)} call from node ${peer ?? '(unknown)'}: ${String(fields.reason)}`
        : `node ${peer} refuses this node's messages: ${String(fields.reason)}`)
      return
    }
    if (event === 'peer-stream-accepted' && peer !== undefined) {
      if (down.delete(peer)) log.info(line, `peer ${peer} is reachable again`)
      else log.debug(line, event)
      return
    }
    if (event === 'peer-unreachable' || event === 'peer-messages-dropped') {
      if (peer !== undefined && !down.has(peer) && event === 'peer-unreachable') {
        down.add(peer)
        log.warn(line, `peer ${peer} is unreachable`)
      } else {
        log.debug(line, event)
      }
      return
    }
    if (WARN.has(event)) log.warn(line, event)
    else if (INFO.has(event)) log.info(line, event)
    else log.debug(line, event)
  }
}
