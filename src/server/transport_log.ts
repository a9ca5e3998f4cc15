/**
 * Turns the transport's events into node log lines. Events that recur while a peer stays down
 * (a failed reconnect every few seconds, dropped messages) are logged once at warn when the peer
 * becomes unreachable and then at debug until its stream is accepted again, so a dead peer
 * produces one line, not one per retry.
 */
import type {TransportLogger} from '../transport/index.js'
import type {NodeLogger} from './logger.js'

const INFO = new Set([
  'peer-added', 'peer-removed', 'peer-address-updated', 'peer-server-listening',
  'snapshot-sending', 'snapshot-sent', 'snapshot-receiving',
])
const WARN = new Set(['peer-refused', 'peer-stream-refused', 'snapshot-send-failed', 'snapshot-receive-failed', 'peer-message-too-large', 'peer-unknown'])

export function transportLogger(log: NodeLogger): TransportLogger {
  const down = new Set<number>()
  return (event, fields) => {
    const peer = typeof fields.peer === 'number' ? fields.peer : undefined
    const line = {event, ...fields}
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
