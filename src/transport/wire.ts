/**
 * The Peer service as the transport puts it on the wire. The generated definition
 * (src/generated/raftctl/v1/peer.ts) encodes and decodes whole objects; the transport instead
 * sends PeerBatch bytes it assembles from messages encoded once at enqueue time (so it knows
 * each message's exact size for its queue limits), and the server receives raw bytes and decodes
 * them itself, so that bytes which do not decode are refused and logged by raftctl rather than
 * failing inside gRPC. Paths, names and response types are those of the generated service.
 */
import {BinaryWriter} from '@bufbuild/protobuf/wire'
import {
  type ChannelCredentials, Client, type ClientOptions, type ClientWritableStream, type CallOptions,
  makeGenericClientConstructor, type MethodDefinition, type ServiceError,
} from '@grpc/grpc-js'
import {
  PeerHeader, PeerService, type PeerStreamSummary, type SnapshotAck, SnapshotChunk,
} from '../generated/raftctl/v1/peer.js'
import {MessageType} from '../raft/types.js'

const asBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength)
const rawBytes = (b: Buffer): Buffer => b

/** A generated method definition with its request codec replaced. */
function withRequestCodec<Req, Res>(
  def: Omit<MethodDefinition<unknown, Res>, 'requestSerialize' | 'requestDeserialize'>, serialize: (r: Req) => Buffer, deserialize: (b: Buffer) => Req,
): MethodDefinition<Req, Res> {
  return {...def, requestSerialize: serialize, requestDeserialize: deserialize}
}

const snapshotChunkBytes = (c: SnapshotChunk): Buffer => asBuffer(SnapshotChunk.encode(c).finish())

/** Client side: Stream sends pre-assembled PeerBatch bytes; SendSnapshot sends chunk objects. */
export const PEER_CLIENT_DEFINITION = {
  stream: withRequestCodec<Uint8Array, PeerStreamSummary>(PeerService.stream, asBuffer, rawBytes),
  sendSnapshot: withRequestCodec<SnapshotChunk, SnapshotAck>(PeerService.sendSnapshot, snapshotChunkBytes, SnapshotChunk.decode),
}

/** Server side: both methods receive raw request bytes and decode them in the handler. */
export const PEER_SERVER_DEFINITION = {
  stream: withRequestCodec<Buffer, PeerStreamSummary>(PeerService.stream, rawBytes, rawBytes),
  sendSnapshot: withRequestCodec<Buffer, SnapshotAck>(PeerService.sendSnapshot, rawBytes, rawBytes),
}

type Done<T> = (err: ServiceError | null, response?: T) => void

/** The client the transport uses, typed by PEER_CLIENT_DEFINITION. */
export interface RawPeerClient extends Client {
  stream(options: Partial<CallOptions>, callback: Done<PeerStreamSummary>): ClientWritableStream<Uint8Array>
  sendSnapshot(options: Partial<CallOptions>, callback: Done<SnapshotAck>): ClientWritableStream<SnapshotChunk>
}

export const RawPeerClient = makeGenericClientConstructor(PEER_CLIENT_DEFINITION, 'raftctl.v1.Peer') as unknown as
  new (address: string, credentials: ChannelCredentials, options?: Partial<ClientOptions>) => RawPeerClient

/** Encodes a PeerHeader once per peer; every batch to that peer starts with these bytes. */
export function encodeHeaderField(header: PeerHeader): Uint8Array {
  const w = new BinaryWriter()
  PeerHeader.encode(header, w.uint32(10).fork()).join()
  return w.finish()
}

/**
 * Assembles PeerBatch bytes: the encoded header field followed by each encoded eraftpb.Message
 * as field 2 (length-delimited), exactly what PeerBatch.encode would produce.
 */
export function encodeBatch(headerField: Uint8Array, messages: readonly Uint8Array[]): Uint8Array {
  const w = new BinaryWriter()
  w.raw(headerField)
  for (const m of messages) w.uint32(18).bytes(m)
  return w.finish()
}

/**
 * Message types that exist only inside one node: the core never emits them for the network, and
 * a receiver refuses a batch that carries one.
 */
const LOCAL_ONLY: ReadonlySet<MessageType> = new Set([
  MessageType.MsgHup, MessageType.MsgBeat, MessageType.MsgUnreachable,
  MessageType.MsgSnapStatus, MessageType.MsgCheckQuorum,
])

/** True for message types that must never travel between nodes. */
export const isLocalOnly = (t: MessageType): boolean => LOCAL_ONLY.has(t)

/**
 * Essential messages keep a reserve in a full queue: losing them delays an election, a leader
 * transfer or a linearizable read by a whole timeout, while a lost append or heartbeat is resent
 * by the leader on its own (Raft paper §5.3: the leader retries AppendEntries indefinitely).
 */
const ESSENTIAL: ReadonlySet<MessageType> = new Set([
  MessageType.MsgRequestVote, MessageType.MsgRequestVoteResponse,
  MessageType.MsgRequestPreVote, MessageType.MsgRequestPreVoteResponse,
  MessageType.MsgTimeoutNow, MessageType.MsgTransferLeader,
  MessageType.MsgReadIndex, MessageType.MsgReadIndexResp,
])

/** True for message types that use the queue's essential reserve. */
export const isEssential = (t: MessageType): boolean => ESSENTIAL.has(t)
