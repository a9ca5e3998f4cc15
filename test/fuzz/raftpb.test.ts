// Fuzzing the checked decoders of the Raft wire types (src/raftpb/codec.ts), which every peer
// message and every Raft record on disk passes through: random bytes, protobuf-shaped bytes and
// mutations of valid encodings either decode to a value whose every integer is a safe integer
// and every enum known, or throw WireDecodeError naming the type — never another exception.
import {expect} from 'chai'
import fc from 'fast-check'
import {
  decodeConfState, decodeEntry, decodeHardState, decodeMessage, decodeSnapshot,
  decodeSnapshotMetadata, encodeConfState, encodeEntry, encodeHardState, encodeMessage,
  encodeSnapshot, encodeSnapshotMetadata, WireDecodeError,
} from '../../src/raftpb/index.js'
import {RaftError} from '../../src/raft/errors.js'
import {MemoryStorage} from '../../src/raft/memory_storage.js'
import {RawNode} from '../../src/raft/raw_node.js'
import {EntryType, MessageType} from '../../src/raft/types.js'
import * as arb from './arbitraries.js'
import {FUZZ_TITLE, fuzzParams, fuzzTimeout, hostile, typedOutcome} from './fuzz.js'

const RUNS = 400

const isUint = (n: unknown): boolean => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0

/** Every number in a decoded value (recursively) must be a safe integer. */
function checkNumbers(v: unknown, path: string): void {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error(`${path} decoded to ${v}, not a safe integer`)
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => checkNumbers(x, `${path}[${i}]`))
  } else if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    for (const [k, x] of Object.entries(v)) checkNumbers(x, `${path}.${k}`)
  }
}

interface Target {
  readonly name: string
  readonly valid: fc.Arbitrary<Uint8Array>
  readonly decode: (b: Uint8Array) => unknown
  readonly encode: (v: never) => Uint8Array
  /** Checks the decoded value beyond "every number is a safe integer". */
  readonly check?: (v: never) => void
}

const TARGETS: Target[] = [
  {name: 'eraftpb.Entry', valid: arb.entry.map(encodeEntry), decode: decodeEntry, encode: encodeEntry,
    check: (e: {entryType: number, term: number, index: number}) => {
      expect(EntryType[e.entryType]).to.be.a('string')
      expect(isUint(e.term) && isUint(e.index)).to.equal(true)
    }},
  {name: 'eraftpb.Message', valid: arb.message.map(encodeMessage), decode: decodeMessage, encode: encodeMessage,
    check: (m: {msgType: number, to: number, from: number}) => {
      expect(MessageType[m.msgType]).to.be.a('string')
      expect(isUint(m.to) && isUint(m.from)).to.equal(true)
    }},
  {name: 'eraftpb.HardState', valid: arb.hardState.map(encodeHardState), decode: decodeHardState, encode: encodeHardState},
  {name: 'eraftpb.ConfState', valid: arb.confState.map(encodeConfState), decode: decodeConfState, encode: encodeConfState},
  {name: 'eraftpb.SnapshotMetadata', valid: arb.snapshotMetadata.map(encodeSnapshotMetadata), decode: decodeSnapshotMetadata,
    encode: encodeSnapshotMetadata},
  {name: 'eraftpb.Snapshot', valid: arb.snapshot.map(encodeSnapshot), decode: decodeSnapshot, encode: encodeSnapshot},
]

describe(`fuzz: Raft wire decoders (src/raftpb) ${FUZZ_TITLE}`, function () {
  this.timeout(fuzzTimeout(RUNS, 1))

  for (const t of TARGETS) {
    it(`${t.name}: hostile bytes decode to a checked value or throw WireDecodeError`, () => {
      fc.assert(fc.property(hostile(t.valid), (bytes) => {
        const v = typedOutcome(() => t.decode(bytes), [WireDecodeError], `decoding ${t.name}`)
        if (v === undefined) return
        checkNumbers(v, t.name)
        t.check?.(v as never)
        // A decoded value re-encodes to bytes that decode to the same value.
        expect(t.decode(t.encode(v as never))).to.deep.equal(v)
      }), fuzzParams(RUNS))
    })
  }

  it('a WireDecodeError names the type that did not decode', () => {
    fc.assert(fc.property(fc.constantFrom(...TARGETS), hostile(arb.message.map(encodeMessage)), (t, bytes) => {
      try {
        t.decode(bytes)
      } catch (err) {
        expect((err as Error).message).to.match(/eraftpb\.|Snapshot\.metadata|Message\.|Entry\.|ConfState[. ]|HardState\./)
      }
    }), fuzzParams(RUNS))
  })
})

describe(`fuzz: a decoded ConfState is one the core holds ${FUZZ_TITLE}`, () => {
  it('decodeConfState accepts exactly the configurations a RawNode starts with (ids unique and >= 1)', () => {
    fc.assert(fc.property(arb.confState, (cs) => {
      const decoded = typedOutcome(() => decodeConfState(encodeConfState(cs)), [WireDecodeError], 'decoding a ConfState')
      let coreOk = true
      try {
        new RawNode({id: 1, electionTick: 10, heartbeatTick: 1}, MemoryStorage.withConfState(cs))
      } catch (err) {
        if (!(err instanceof RaftError)) throw err
        coreOk = false
      }
      const listsOk = [cs.voters, cs.learners, cs.votersOutgoing, cs.learnersNext].every((l) => new Set(l).size === l.length && !l.includes(0))
      expect(decoded !== undefined, `decoded ${JSON.stringify(cs)}`).to.equal(coreOk && listsOk)
    }), fuzzParams(RUNS))
  })
})
