/**
 * Shared machinery of the fuzz tests (test/fuzz): run counts and seeds from the environment,
 * arbitraries for hostile bytes (random bytes, random protobuf fields, and mutations of valid
 * encodings), and the checks every fuzz target shares: "a typed error or a valid value, never
 * anything else" and "an asynchronous decoder settles within a bound".
 *
 * Environment (docs/testing.md, "Fuzzing and disk faults"):
 *   FUZZ_RUNS=N   runs of every fuzz property (default: each property's own small count, so each
 *                 file takes seconds in `npm test`); e.g. FUZZ_RUNS=100000
 *   FUZZ_SEED=S   fast-check seed (default fixed, so CI is deterministic); "random" draws one,
 *                 printed in the suite title so a failing exploration can be replayed
 */
import {BinaryWriter, WireType} from '@bufbuild/protobuf/wire'
import fc from 'fast-check'

function envInt(name: string): number | undefined {
  const v = process.env[name]
  if (v === undefined || v === '') return undefined
  const n = Number(v)
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${v}"`)
  return n
}

/** The seed of the default (CI) run. */
const DEFAULT_SEED = 1106

export const FUZZ_SEED = process.env.FUZZ_SEED === 'random'
  ? Math.floor(Math.random() * 0x7fffffff)
  : envInt('FUZZ_SEED') ?? DEFAULT_SEED

const RUNS_OVERRIDE = envInt('FUZZ_RUNS')

/** Runs of a property whose default count is `dflt`: FUZZ_RUNS when set. */
export function fuzzRuns(dflt: number): number {
  return RUNS_OVERRIDE ?? dflt
}

/** The suite title suffix: seed and run count, so a failure can be replayed. */
export const FUZZ_TITLE = `(seed ${FUZZ_SEED}${RUNS_OVERRIDE !== undefined ? `, FUZZ_RUNS=${RUNS_OVERRIDE}` : ''})`

/** Parameters for fc.assert: the run count and the seed (a failure prints the seed and path that replay it). */
export function fuzzParams<T>(dflt: number): fc.Parameters<T> {
  return {numRuns: fuzzRuns(dflt), seed: FUZZ_SEED}
}

/** A bounded mocha timeout for a property of `dflt` default runs costing about `msPerRun` each. */
export function fuzzTimeout(dflt: number, msPerRun: number): number {
  return Math.max(20_000, fuzzRuns(dflt) * msPerRun * 4)
}

// ---- hostile bytes ----

/** Any bytes, mostly short. */
export const randomBytes = (maxLength = 200): fc.Arbitrary<Uint8Array> => fc.uint8Array({maxLength})

/** A varint that is often at an edge: 0, 2^31, 2^32-1, 2^53, 2^64-1 and so on. */
const edgyVarint: fc.Arbitrary<bigint> = fc.oneof(
  fc.bigInt({min: 0n, max: 300n}),
  fc.constantFrom(2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n),
  fc.bigInt({min: 0n, max: 2n ** 64n - 1n}),
)

/** One protobuf field with a random number, wire type and value. */
const protoField = fc.record({
  field: fc.oneof(fc.integer({min: 1, max: 20}), fc.integer({min: 1, max: 2 ** 29 - 1})),
  kind: fc.constantFrom('varint', 'fixed64', 'bytes', 'fixed32', 'nested', 'group'),
  varint: edgyVarint,
  bytes: fc.uint8Array({maxLength: 40}),
})

/**
 * Protobuf-shaped bytes: fields with random numbers and wire types (including nested messages
 * and the deprecated groups), so decoders meet known fields with the wrong wire type, repeated
 * fields, huge varints and unknown fields rather than only framing errors.
 */
export const protoBytes: fc.Arbitrary<Uint8Array> = fc.array(protoField, {maxLength: 12}).map((fields) => {
  const w = new BinaryWriter()
  for (const f of fields) {
    switch (f.kind) {
      case 'varint': w.tag(f.field, WireType.Varint).uint64(f.varint); break
      case 'fixed64': w.tag(f.field, WireType.Bit64).fixed64(f.varint); break
      case 'fixed32': w.tag(f.field, WireType.Bit32).fixed32(Number(f.varint % 2n ** 32n)); break
      case 'bytes': w.tag(f.field, WireType.LengthDelimited).bytes(f.bytes); break
      case 'nested': w.tag(f.field, WireType.LengthDelimited).fork().tag(1, WireType.Varint).uint64(f.varint).join(); break
      case 'group': w.tag(f.field, WireType.StartGroup).tag(f.field, WireType.EndGroup); break
    }
  }
  return w.finish()
})

export type Mutation =
  | {kind: 'flip', at: number, bit: number}
  | {kind: 'set', at: number, value: number}
  | {kind: 'insert', at: number, bytes: Uint8Array}
  | {kind: 'delete', at: number, length: number}
  | {kind: 'truncate', at: number}
  | {kind: 'duplicate', at: number, length: number}
  | {kind: 'max', at: number, length: number}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({min: 0, max: 7})}),
  fc.record({kind: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff)}),
  fc.record({kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({minLength: 1, maxLength: 12})}),
  fc.record({kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({min: 1, max: 8})}),
  fc.record({kind: fc.constant('truncate' as const), at: fc.nat()}),
  fc.record({kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({min: 1, max: 16})}),
  fc.record({kind: fc.constant('max' as const), at: fc.nat(), length: fc.integer({min: 1, max: 10})}),
)

/** Applies one mutation; positions wrap around the input's length. */
export function mutate(input: Uint8Array, m: Mutation): Uint8Array {
  const b = Buffer.from(input)
  const at = b.length === 0 ? 0 : m.at % (b.length + (m.kind === 'insert' ? 1 : 0))
  switch (m.kind) {
    case 'flip': if (b.length > 0) b[at] ^= 1 << m.bit; return b
    case 'set': if (b.length > 0) b[at] = m.value; return b
    case 'insert': return Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)])
    case 'delete': return Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)])
    case 'truncate': return b.subarray(0, at)
    case 'duplicate': return Buffer.concat([b.subarray(0, at + m.length), b.subarray(at)])
    case 'max': b.fill(0xff, at, Math.min(b.length, at + m.length)); return b
  }
}

/** One to four mutations, for inputs built inside a property (see applyMutations). */
export const mutations: fc.Arbitrary<Mutation[]> = fc.array(mutation, {minLength: 1, maxLength: 4})

export const applyMutations = (input: Uint8Array, ms: readonly Mutation[]): Uint8Array =>
  ms.reduce((acc, m) => mutate(acc, m), input)

/** A valid encoding from `valid` with one to four mutations applied. */
export function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(valid, mutations).map(([b, ms]) => applyMutations(b, ms))
}

/**
 * Hostile input for a decoder of `valid` encodings: random, protobuf-shaped or mutated bytes,
 * and now and then a valid encoding itself (so the property also sees what must be accepted).
 */
export function hostile(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.oneof({arbitrary: randomBytes(), weight: 1}, {arbitrary: protoBytes, weight: 2},
    {arbitrary: mutated(valid), weight: 4}, {arbitrary: valid, weight: 1})
}

// ---- outcomes ----

/** An error class with a stable `code`, as every typed error of raftctl has. */
type ErrorClass = abstract new (...args: never[]) => Error

/**
 * Runs `fn` and returns its value, or undefined when it threw one of `typed` (with a non-empty
 * one-line message). Anything else thrown (a TypeError, a RangeError, a bare Error) fails the
 * property with the input that caused it.
 */
export function typedOutcome<T>(fn: () => T, typed: readonly ErrorClass[], what: string): T | undefined {
  try {
    return fn()
  } catch (err) {
    checkTyped(err, typed, what)
    return undefined
  }
}

/** Asserts `err` is an instance of one of `typed` with a one-line message. */
export function checkTyped(err: unknown, typed: readonly ErrorClass[], what: string): void {
  if (!typed.some((c) => err instanceof c)) {
    const name = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
    throw new Error(`${what} threw an untyped error (${name}); expected one of ${typed.map((c) => c.name).join(', ')}`)
  }
  const message = (err as Error).message
  if (message === '' || message.includes('\n')) throw new Error(`${what} threw ${(err as Error).name} without a one-line message: ${JSON.stringify(message)}`)
}

/** The async counterpart of typedOutcome, bounded in time: a hang fails with `what`. */
export async function typedOutcomeAsync<T>(fn: () => Promise<T>, typed: readonly ErrorClass[], what: string, boundMs = 5000): Promise<T | undefined> {
  try {
    return await settlesWithin(fn(), boundMs, what)
  } catch (err) {
    if (err instanceof HangError) throw err
    checkTyped(err, typed, what)
    return undefined
  }
}

/** Raised when an asynchronous decoder did not settle within its bound. */
export class HangError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not settle within ${ms} ms (a hang)`)
    this.name = 'HangError'
  }
}

/** Resolves or rejects as `p` does, or rejects with HangError after `ms`. */
export async function settlesWithin<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new HangError(what, ms)), ms) })
  try {
    return await Promise.race([p, bound])
  } finally {
    clearTimeout(timer)
  }
}

/** Hex of bytes, for keys and failure messages. */
export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
