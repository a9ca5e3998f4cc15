/**
 * The receiver's checks of everything a peer sends, before any of it reaches the core. A check
 * that fails throws a PeerRefusal whose gRPC status says why:
 * - FAILED_PRECONDITION: another cluster's id, or a message meant for another node id (the sender
 *   has a stale address for this node);
 * - PERMISSION_DENIED: a sender that is not a current member (removed or not yet added), or a
 *   message that claims another sender than the stream's header;
 * - INVALID_ARGUMENT: bytes that do not decode (src/raftpb's WireDecodeError), a missing header,
 *   a message type that never leaves a node, or a message without the shape every raftctl node
 *   gives it (shape.ts: a term where one belongs, entries without gaps, ...).
 */
import {status} from '@grpc/grpc-js'
import type * as wire from '../generated/eraftpb.js'
import {PeerBatch, type PeerHeader} from '../generated/raftctl/v1/peer.js'
import {decodeWith, WireDecodeError} from '../raftpb/checked.js'
import {messageFromWire} from '../raftpb/convert.js'
import {type Message, MessageType} from '../raft/types.js'
import {errorMessage, PeerRefusal} from './errors.js'
import {shapeProblem} from './shape.js'
import {isLocalOnly} from './wire.js'

/** Who the receiver is and whom it accepts. */
export interface ReceiverIdentity {
  readonly clusterId: number
  readonly nodeId: number
  /** True when `id` is a current member other than this node; consulted on every batch. */
  readonly isKnownPeer: (id: number) => boolean
}

/** Checks a call's header against the receiver; returns it when the sender may talk to this node. */
export function checkHeader(self: ReceiverIdentity, h: PeerHeader | undefined, what: string): PeerHeader {
  if (h === undefined) {
    throw new PeerRefusal(status.INVALID_ARGUMENT, `${what} has no header naming its cluster, sender and receiver`)
  }
  if (h.clusterId !== self.clusterId) {
    throw new PeerRefusal(status.FAILED_PRECONDITION,
      `node ${self.nodeId} belongs to cluster ${self.clusterId}, not to cluster ${h.clusterId} of sender node ${h.from}`, h.from)
  }
  if (h.to !== self.nodeId) {
    throw new PeerRefusal(status.FAILED_PRECONDITION,
      `this is node ${self.nodeId}, not node ${h.to}; node ${h.from} has a stale address for node ${h.to}`, h.from)
  }
  if (h.from === self.nodeId || !self.isKnownPeer(h.from)) {
    throw new PeerRefusal(status.PERMISSION_DENIED,
      `node ${h.from} is not a member of cluster ${self.clusterId} as node ${self.nodeId} knows it (removed or not yet added)`, h.from)
  }
  return h
}

/** Decodes one wire message of a call from `h.from` and checks it is addressed consistently. */
export function checkMessage(self: ReceiverIdentity, h: PeerHeader, w: wire.Message, pos: string): Message {
  let m: Message
  try {
    m = messageFromWire(w)
  } catch (err) {
    throw new PeerRefusal(status.INVALID_ARGUMENT, `${pos} does not decode: ${errorMessage(err)}`, h.from)
  }
  if (isLocalOnly(m.msgType)) {
    throw new PeerRefusal(status.INVALID_ARGUMENT, `${pos} is a ${MessageType[m.msgType]}, which never travels between nodes`, h.from)
  }
  const problem = shapeProblem(m)
  if (problem !== undefined) {
    throw new PeerRefusal(status.INVALID_ARGUMENT, `${pos} is a malformed ${MessageType[m.msgType]}: ${problem}`, h.from)
  }
  if (m.from !== h.from) {
    throw new PeerRefusal(status.PERMISSION_DENIED, `${pos} claims to be from node ${m.from} on a stream from node ${h.from}`, h.from)
  }
  if (m.to !== self.nodeId) {
    throw new PeerRefusal(status.FAILED_PRECONDITION, `${pos} is addressed to node ${m.to}, but this is node ${self.nodeId}`, h.from)
  }
  return m
}

/**
 * Decodes and checks a whole PeerBatch. All or nothing: if any message fails, the batch is
 * refused and none of its messages is delivered.
 */
export function checkBatch(self: ReceiverIdentity, bytes: Uint8Array): {header: PeerHeader, messages: Message[]} {
  const batch = decodeOrRefuse('raftctl.v1.PeerBatch', () => PeerBatch.decode(bytes))
  const header = checkHeader(self, batch.header, 'a message batch')
  const messages = batch.messages.map((w, i) => checkMessage(self, header, w, `message ${i + 1} of the batch`))
  return {header, messages}
}

/** Runs a generated decoder; undecodable bytes become an INVALID_ARGUMENT refusal. */
export function decodeOrRefuse<T>(what: string, decode: () => T): T {
  try {
    return decodeWith(what, decode)
  } catch (err) {
    if (err instanceof WireDecodeError) throw new PeerRefusal(status.INVALID_ARGUMENT, err.message)
    throw err
  }
}
