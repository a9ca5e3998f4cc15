// Fuzzing the records a node reads back from its data dir (src/storage records / load / open and
// the kv codec): each decoder answers hostile bytes with a problem sentence or a typed error;
// opening a data dir in which one record was replaced by hostile bytes, removed, or joined by a
// hostile key either refuses with a typed error naming the dir and the record, or loads a state
// that a RawNode accepts — and in both cases leaves the data dir as it was. Applying a log entry
// whose data is hostile is a no-op that reports an error, never a crash.
import {cpSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {expect} from 'chai'
import fc from 'fast-check'
import {ConfState} from '../../src/generated/eraftpb.js'
import type {KeyValue} from '../../src/generated/etcd/mvccpb/kv.js'
import {InternalRaftRequest} from '../../src/generated/raftctl/v1/internal.js'
import {decodeInternalRequest, decodeMeta, decodeStoredKv, encodeInternalRequest, encodeMeta, encodeStoredKv} from '../../src/kv/codec.js'
import {KvError, KvStore} from '../../src/kv/index.js'
import {RawNode} from '../../src/raft/raw_node.js'
import {WireDecodeError} from '../../src/raftpb/checked.js'
import {encodeConfState, encodeEntry, encodeHardState, encodeSnapshot} from '../../src/raftpb/codec.js'
import {Db} from '../../src/storage/db.js'
import {StorageError} from '../../src/storage/errors.js'
import {
  APPLIED_KEY, CONF_STATE_KEY, HARD_STATE_KEY, IDENT_KEY, KV_META_KEY, LOG_START_KEY, logIndexOf,
  SNAPSHOT_KEY,
} from '../../src/storage/keys.js'
import {
  decodeIdentity, decodeIndexTerm, decodeMember, decodeMemberList, encodeIdentity, encodeIndexTerm,
  encodeMember, encodeMemberList, memberFromWire, STORAGE_FORMAT_VERSION,
} from '../../src/storage/records.js'
import {RaftStorage} from '../../src/storage/raft_storage.js'
import {TempDirs} from '../storage/helpers.js'
import {b, putReq, rangeReq, TestNode} from '../kv/helpers.js'
import * as arb from './arbitraries.js'
import {difference, type Fingerprint, fingerprintClosed} from './datadir.js'
import {FUZZ_TITLE, fuzzParams, fuzzTimeout, hostile, hex, typedOutcome, typedOutcomeAsync} from './fuzz.js'

const RUNS = 300
const DIR_RUNS = 15

const u = fc.maxSafeNat()
const kv = fc.record({
  key: fc.constant(new Uint8Array()), value: fc.uint8Array({maxLength: 12}), createRevision: fc.integer({min: 1, max: 9}),
  modRevision: fc.integer({min: 1, max: 20}), version: fc.integer({min: 1, max: 5}), lease: fc.constant(0n),
}) as fc.Arbitrary<KeyValue>
const meta = (max: fc.Arbitrary<number>) => fc.record({revision: max, compactRevision: max, physicalRevision: max, keyCount: max})
  .map((m) => ({...m, revision: Math.max(1, m.revision), compactRevision: Math.min(m.compactRevision, m.revision), physicalRevision: Math.min(m.physicalRevision, m.compactRevision, m.revision)}))

/** Decoders that return {ok, value} or {ok: false, problem} and must never throw. */
const DECODED: Array<[string, fc.Arbitrary<Uint8Array>, (b: Uint8Array) => {ok: boolean}]> = [
  ['identity (r/ident)', fc.record({formatVersion: fc.constant(STORAGE_FORMAT_VERSION), clusterId: u, nodeId: u}).map(encodeIdentity), decodeIdentity],
  ['index and term (r/logstart, r/applied)', fc.record({index: u, term: u}).map(encodeIndexTerm), decodeIndexTerm],
  ['KV meta (v/meta)', meta(u).map(encodeMeta), decodeMeta],
  ['stored KeyValue (k/...)', kv.map(encodeStoredKv), (x) => decodeStoredKv(b('key'), x)],
]

/** Decoders that throw WireDecodeError. */
const THROWING: Array<[string, fc.Arbitrary<Uint8Array>, (b: Uint8Array) => unknown]> = [
  ['raftctl.v1.Member (m/...)', arb.member.map(encodeMember), decodeMember],
  ['raftctl.v1.MemberList', fc.array(arb.member, {maxLength: 3}).map(encodeMemberList), decodeMemberList],
  ['raftctl.v1.InternalRaftRequest (log entry data)', fc.record({id: u, key: fc.uint8Array({maxLength: 6}), value: fc.uint8Array({maxLength: 6})})
    .map((r) => encodeInternalRequest({id: r.id, put: {...putReq('', ''), key: r.key, value: r.value}})), decodeInternalRequest],
]

describe(`fuzz: storage records ${FUZZ_TITLE}`, function () {
  this.timeout(fuzzTimeout(RUNS, 1) + 2 * fuzzTimeout(DIR_RUNS, 300))

  for (const [what, valid, decode] of DECODED) {
    it(`${what}: hostile bytes give a value or a problem sentence, never an exception`, () => {
      fc.assert(fc.property(hostile(valid), (bytes) => {
        const d = decode(bytes) as {ok: true, value: unknown} | {ok: false, problem: string}
        if (!d.ok) expect(d.problem).to.match(/^\S.*[^\n]$/)
      }), fuzzParams(RUNS))
    })
  }

  for (const [what, valid, decode] of THROWING) {
    it(`${what}: hostile bytes give a value or WireDecodeError`, () => {
      fc.assert(fc.property(hostile(valid), (bytes) => {
        typedOutcome(() => decode(bytes), [WireDecodeError], `decoding ${what}`)
      }), fuzzParams(RUNS))
    })
  }

  describe('a data dir with one hostile record', () => {
    const tmp = new TempDirs()
    let base = ''
    before(async () => {
      base = await buildBaseDir(tmp.make('raftctl-fuzz-base-'))
    })
    after(() => tmp.cleanup())

    it('is refused with a typed error or opened into a state the core accepts, and is left as it was', async () => {
      let n = 0
      await fc.assert(fc.asyncProperty(recordFault, async (fault) => {
        const dir = join(tmp.make('raftctl-fuzz-dir-'), `d${n++}`)
        cpSync(base, dir, {recursive: true})
        try {
          await injectFault(dir, fault)
          const before = await fingerprintClosed(dir)
          const opened = await typedOutcomeAsync(() => openAndRead(dir), [StorageError],
            `opening a data dir whose record ${fault.key} is ${fault.kind}`)
          const after = await fingerprintClosed(dir)
          expect(differenceExceptStaleLog(before, after, opened?.logStart ?? -1),
            'opening must not change the data dir').to.equal(undefined)
        } finally {
          rmSync(dir, {recursive: true, force: true})
        }
      }), fuzzParams(DIR_RUNS))
    })
  })

  describe('applying a log entry with hostile data', () => {
    const tmp = new TempDirs()
    let node: TestNode
    before(async () => {
      node = await TestNode.create(tmp.make('raftctl-fuzz-apply-'))
      await node.put('a', '1')
    })
    after(async () => {
      await node.close()
      tmp.cleanup()
    })

    it('applies it as a no-op that reports a typed error, or as the valid request it happens to be', async () => {
      const request = arb.internalRequest.map((r) => InternalRaftRequest.encode(r).finish())
      await fc.assert(fc.asyncProperty(hostile(request), async (data) => {
        const revision = node.kv.revision
        const r = await typedOutcomeAsync(() => node.applyData(data), [], 'applying a hostile entry')
        expect(r!.applied).to.equal(true)
        if (r!.error !== undefined) {
          expect(r!.error).to.be.instanceOf(KvError)
          expect(node.kv.revision, 'a refused entry writes nothing').to.equal(revision)
        }
      }), fuzzParams(RUNS / 3))
    })
  })
})

describe('fuzz regressions: storage records', function () {
  this.timeout(20_000)
  const tmp = new TempDirs()
  after(() => tmp.cleanup())

  it('a stored ConfState naming a voter twice stops the open with STORAGE_CORRUPT naming r/confstate (the RawNode threw RaftInvariantError)', async () => {
    const dir = await buildBaseDir(tmp.make('raftctl-fuzz-reg-'))
    const db = await Db.open(join(dir, 'db'), {createIfMissing: false})
    const wire = ConfState.encode({voters: [1, 1], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false}).finish()
    await db.write([{type: 'put', key: CONF_STATE_KEY, value: wire}])
    await db.close()
    const before = await fingerprintClosed(dir)
    const err = await openAndRead(dir).then(() => undefined, (e: unknown) => e as StorageError)
    expect(err?.code).to.equal('STORAGE_CORRUPT')
    expect(err?.message).to.equal(`data dir ${dir}: record "r/confstate" is corrupt: ConfState.voters names node 1 twice`)
    expect(difference(before, await fingerprintClosed(dir))).to.equal(undefined)
  })

  it('a member with id 0 is a WireDecodeError wherever it is converted, not a RangeError', () => {
    expect(() => memberFromWire({id: 0, name: '', peerUrls: [], clientUrls: []})).to.throw(WireDecodeError, /^Member.id is 0, but node ids start at 1$/)
  })
})

// ---- the data dir ----

/** A closed data dir with every kind of record: log, hard state, snapshot, members, keys. */
async function buildBaseDir(dir: string): Promise<string> {
  const n = await TestNode.create(dir)
  for (let i = 0; i < 6; i++) await n.put(`key${i}`, `value${i}`)
  await n.kv.createSnapshot()
  await n.rs.compact(4, {trailing: 1})
  await n.put('after', 'snapshot')
  await n.close()
  return dir
}

const RECORD_KEYS = [IDENT_KEY, HARD_STATE_KEY, CONF_STATE_KEY, SNAPSHOT_KEY, LOG_START_KEY, APPLIED_KEY, KV_META_KEY]
  .map((k) => hex(k))

/** Valid encodings for each kind of record, to mutate. */
const validValue = fc.oneof(
  fc.record({formatVersion: fc.constant(STORAGE_FORMAT_VERSION), clusterId: fc.constantFrom(42, 43), nodeId: fc.constantFrom(1, 2)}).map(encodeIdentity),
  arb.hardState.map(encodeHardState), arb.confState.map(encodeConfState), arb.snapshot.map(encodeSnapshot),
  fc.record({index: fc.nat(12), term: fc.nat(3)}).map(encodeIndexTerm), arb.entry.map(encodeEntry), arb.member.map(encodeMember),
  meta(fc.nat(12)).map(encodeMeta), kv.map(encodeStoredKv),
)

/**
 * A fault: replace the value of an existing record (chosen by position among all keys, or one of
 * the r/ records) with hostile bytes, delete it, or add a hostile key under one of the prefixes.
 */
const recordFault = fc.record({
  kind: fc.constantFrom('replaced', 'replaced', 'replaced', 'deleted', 'added'),
  key: fc.oneof(fc.constantFrom(...RECORD_KEYS), fc.nat(40).map((i) => `#${i}`)),
  newKey: fc.tuple(fc.constantFrom('l/', 'm/', 'k/', 'r/', 'v/'), fc.uint8Array({maxLength: 10}))
    .map(([p, rest]) => hex(Buffer.concat([Buffer.from(p), rest]))),
  value: hostile(validValue),
})
type RecordFault = typeof recordFault extends fc.Arbitrary<infer T> ? T : never

async function injectFault(dir: string, f: RecordFault): Promise<void> {
  const db = await Db.open(join(dir, 'db'), {createIfMissing: false})
  try {
    let key = f.key
    if (key.startsWith('#')) {
      const all: string[] = []
      for await (const [k] of db.iterate({values: false})) all.push(k.toString('hex'))
      key = all[Number(key.slice(1)) % all.length]
    }
    const k = Buffer.from(f.kind === 'added' ? f.newKey : key, 'hex')
    await db.write([f.kind === 'deleted' ? {type: 'del', key: k} : {type: 'put', key: k, value: f.value}])
  } finally {
    await db.close()
  }
}

/**
 * Opens the dir as a node does (storage, state machine, RawNode), reads every user key and
 * closes it; returns the log start the storage loaded.
 */
async function openAndRead(dir: string): Promise<{logStart: number}> {
  const rs = await RaftStorage.open(dir)
  try {
    const kv = await KvStore.open(rs)
    try {
      new RawNode({id: rs.nodeId, electionTick: 10, heartbeatTick: 1, applied: rs.applied.index}, rs)
      await kv.range(rangeReq('\0', '\0'))
    } finally {
      await kv.close()
    }
    return {logStart: rs.firstIndex() - 1}
  } finally {
    await rs.close()
  }
}

/**
 * The difference between two fingerprints, ignoring the one change an open may make: deleting
 * log keys at or below the log start it loaded (docs/storage-layout.md: nothing can use them).
 */
function differenceExceptStaleLog(before: Fingerprint, after: Fingerprint, logStart: number): string | undefined {
  const db = new Map(before.db)
  for (const k of before.db.keys()) {
    const index = logIndexOf(Buffer.from(k, 'hex'))
    if (k.startsWith(hex(b('l/'))) && index !== undefined && index <= logStart && !after.db.has(k)) db.delete(k)
  }
  return difference({db, snap: before.snap}, after)
}
