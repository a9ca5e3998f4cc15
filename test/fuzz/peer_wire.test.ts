// Fuzzing the receiving side of the peer transport (src/transport): hostile PeerBatch bytes and
// hostile snapshot chunk streams are refused with a PeerRefusal (a named gRPC status), or yield
// only messages a raftctl node could have sent — never another exception or a hang. Over real
// gRPC on 127.0.0.1, a PeerServer answers every hostile call with a status and keeps serving.
import {credentials, makeGenericClientConstructor, type ServiceError, status} from '@grpc/grpc-js'
import {expect} from 'chai'
import fc from 'fast-check'
import {PeerBatch, SnapshotChunk} from '../../src/generated/raftctl/v1/peer.js'
import {messageToWire} from '../../src/raftpb/convert.js'
import {encodeMessage} from '../../src/raftpb/codec.js'
import {type Message, MessageType} from '../../src/raft/types.js'
import {checkBatch, type ReceiverIdentity} from '../../src/transport/check.js'
import {PeerRefusal} from '../../src/transport/errors.js'
import {shapeProblem} from '../../src/transport/shape.js'
import {readFirstChunk, type SnapshotProgress, snapshotData} from '../../src/transport/snapshot_receive.js'
import {encodeBatch, encodeHeaderField, isLocalOnly, PEER_SERVER_DEFINITION} from '../../src/transport/wire.js'
import {app, closeAll, CLUSTER, rawStream, TestNode, track} from '../transport/helpers.js'
import * as arb from './arbitraries.js'
import {FUZZ_TITLE, fuzzParams, fuzzTimeout, hostile, settlesWithin, typedOutcome, typedOutcomeAsync} from './fuzz.js'

const RUNS = 300
const GRPC_RUNS = 25
const SELF = 2
const self: ReceiverIdentity = {clusterId: CLUSTER, nodeId: SELF, isKnownPeer: (id) => id === 1 || id === 3}
const REFUSAL_CODES = [status.INVALID_ARGUMENT, status.FAILED_PRECONDITION, status.PERMISSION_DENIED]

/** Headers and messages mostly as a real peer sends them, so that many batches pass the checks. */
const header = fc.oneof(
  {arbitrary: fc.constant({clusterId: CLUSTER, from: 1, to: SELF}), weight: 3},
  {arbitrary: fc.record({clusterId: fc.constantFrom(CLUSTER, 8), from: fc.constantFrom(1, 3, 2, 9), to: fc.constantFrom(SELF, 3)}), weight: 1},
)
const peerMessage = fc.tuple(fc.oneof(arb.message, arb.shapedMessage, arb.shapedMessage), fc.constantFrom(true, true, true, false)).map(([m, addressed]): Message => addressed ? {...m, from: 1, to: SELF} : m)
const validBatch = fc.tuple(header, fc.array(peerMessage, {maxLength: 3}))
  .map(([h, ms]) => encodeBatch(encodeHeaderField(h), ms.map(encodeMessage)))

/** Everything a batch that passed the checks must satisfy. */
function checkAccepted(batch: {header: {from: number}, messages: Message[]}): void {
  for (const m of batch.messages) {
    expect(m.to).to.equal(SELF)
    expect(m.from).to.equal(batch.header.from)
    expect(self.isKnownPeer(m.from)).to.equal(true)
    expect(isLocalOnly(m.msgType)).to.equal(false)
    expect(shapeProblem(m)).to.equal(undefined)
  }
}

function checkRefusal(err: unknown): void {
  if (err === undefined) return
  expect(REFUSAL_CODES).to.include((err as PeerRefusal).grpcCode)
}

const chunk = fc.record({
  header: fc.option(header, {nil: undefined}),
  message: fc.option(arb.message.map((m) => messageToWire({...m, msgType: MessageType.MsgSnapshot, from: 1, to: SELF})), {nil: undefined}),
  offset: fc.oneof(fc.nat(64), fc.maxSafeNat()), data: fc.uint8Array({maxLength: 32}), last: fc.boolean(),
  crc32: fc.oneof(fc.constant(0), fc.nat(2 ** 32 - 1)),
}).map((c) => SnapshotChunk.encode(c).finish())

/** Reads a whole hostile snapshot stream as the receiver does; returns the file bytes it yielded. */
async function receive(chunks: Uint8Array[]): Promise<{bytes: number, progress: SnapshotProgress}> {
  const it = chunks.map((c) => c)[Symbol.iterator]()
  const asyncIt: AsyncIterator<Uint8Array> = {next: async () => it.next()}
  const {first} = await readFirstChunk(self, asyncIt)
  const progress: SnapshotProgress = {bytes: 0, complete: false}
  let bytes = 0
  for await (const d of snapshotData(first, asyncIt, progress)) bytes += d.length
  return {bytes, progress}
}

describe(`fuzz: the peer transport's receiving side ${FUZZ_TITLE}`, function () {
  this.timeout(fuzzTimeout(RUNS, 2) + fuzzTimeout(GRPC_RUNS, 40))
  afterEach(closeAll)

  it('a hostile PeerBatch is refused with a named status or yields only well-formed messages', () => {
    fc.assert(fc.property(hostile(validBatch), (bytes) => {
      let refusal: unknown
      const batch = typedOutcome(() => {
        try {
          return checkBatch(self, bytes)
        } catch (err) {
          refusal = err
          throw err
        }
      }, [PeerRefusal], 'checkBatch')
      if (batch === undefined) checkRefusal(refusal)
      else checkAccepted(batch)
    }), fuzzParams(RUNS))
  })

  it('a hostile snapshot chunk stream is refused or delivers exactly the bytes its offsets and CRC describe', async () => {
    const firstChunk = fc.tuple(header, arb.message).map(([h, m]) => SnapshotChunk.encode({
      header: {...h, clusterId: CLUSTER, from: 1, to: SELF}, message: messageToWire({...m, msgType: MessageType.MsgSnapshot, from: 1, to: SELF}),
      offset: 0, data: new Uint8Array(), last: false, crc32: 0,
    }).finish())
    await fc.assert(fc.asyncProperty(hostile(firstChunk), fc.array(fc.oneof(chunk, hostile(chunk)), {maxLength: 4}), async (head, rest) => {
      const r = await typedOutcomeAsync(() => receive([head, ...rest]), [PeerRefusal], 'receiving a snapshot stream')
      if (r === undefined) return
      // A stream that was not refused ended with its last chunk, whose CRC matched.
      expect(r.progress.complete).to.equal(true)
      expect(r.progress.error).to.equal(undefined)
      expect(r.bytes).to.equal(r.progress.bytes)
    }), fuzzParams(RUNS))
  })

  it('over gRPC, a PeerServer answers every hostile Stream call with a status and keeps serving', async () => {
    const b = track(new TestNode(SELF))
    b.known.add(1)
    await b.listen()
    const good = PeerBatch.encode({header: {clusterId: CLUSTER, from: 1, to: SELF}, messages: [messageToWire(app(1, SELF, 1))]}).finish()
    await fc.assert(fc.asyncProperty(fc.array(hostile(validBatch), {minLength: 1, maxLength: 3}), async (batches) => {
      const err = await settlesWithin(rawStream(b.port, batches), 10_000, 'a Stream call with hostile batches')
      if (err !== null) expect(err.code, err.details).to.not.be.oneOf([status.INTERNAL, status.UNKNOWN])
      const before = b.received.length
      expect(await rawStream(b.port, [good])).to.equal(null)
      expect(b.received.length).to.equal(before + 1)
    }), fuzzParams(GRPC_RUNS))
  })

  it('over gRPC, a PeerServer answers every hostile SendSnapshot call with a status and applies nothing', async () => {
    let completed = 0
    const b = track(new TestNode(SELF, {onSnapshot: async (_m, it) => {
      for await (const _ of it) { /* store */ }
      completed++
    }}))
    b.known.add(1)
    await b.listen()
    await fc.assert(fc.asyncProperty(fc.array(hostile(chunk), {minLength: 1, maxLength: 4}), async (chunks) => {
      const before = completed
      const err = await settlesWithin(rawSnapshot(b.port, chunks), 10_000, 'a SendSnapshot call with hostile chunks')
      if (err === null) expect(completed).to.equal(before + 1)
      else {
        expect(err.code, err.details).to.not.be.oneOf([status.INTERNAL, status.UNKNOWN])
        expect(completed).to.equal(before)
      }
    }), fuzzParams(GRPC_RUNS))
  })
})

/** A client whose SendSnapshot writes raw bytes (PEER_SERVER_DEFINITION's codecs pass bytes through). */
const RawBytesPeerClient = makeGenericClientConstructor(PEER_SERVER_DEFINITION, 'raftctl.v1.Peer')

async function rawSnapshot(port: number, chunks: Uint8Array[]): Promise<ServiceError | null> {
  const client = new RawBytesPeerClient(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as {
    sendSnapshot(o: object, cb: (err: ServiceError | null) => void): {write(b: Buffer): void, end(): void, on(e: string, f: () => void): void}
    close(): void
  }
  try {
    return await new Promise<ServiceError | null>((resolve) => {
      const call = client.sendSnapshot({deadline: new Date(Date.now() + 5000)}, (err) => resolve(err))
      call.on('error', () => {})
      for (const c of chunks) call.write(Buffer.from(c))
      call.end()
    })
  } finally {
    client.close()
  }
}
