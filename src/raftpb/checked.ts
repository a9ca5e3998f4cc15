/**
 * Checked integer parsing for values that enter from outside (wire, disk, CLI). Ids, terms and
 * indexes are plain `number`s inside raftctl, so every one must be a non-negative safe integer;
 * anything else is refused with an error naming the field rather than silently rounded.
 */
import {CodedError, withCode} from '../raft/errors.js'

/** Raised when bytes from the wire or from disk do not decode to a valid raftctl value. */
export class WireDecodeError extends withCode(CodedError, 'WIRE_DECODE') {}

/** Returns `value` if it is a non-negative safe integer; otherwise throws naming `field`. */
export function checkedUint(field: string, value: unknown): number {
  if (typeof value === 'bigint') {
    if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new WireDecodeError(`${field} ${value} is outside 0..2^53-1`)
    }
    return Number(value)
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new WireDecodeError(`${field} ${String(value)} is not an integer in 0..2^53-1`)
  }
  return value
}

/** Returns `value` if it is a safe integer (may be negative); otherwise throws naming `field`. */
export function checkedInt(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new WireDecodeError(`${field} ${String(value)} is not a safe integer`)
  }
  return value
}

/** Returns `value` if it is one of the numeric members of `enumObj`; otherwise throws. */
export function checkedEnum<T extends number>(field: string, enumObj: object, value: number): T {
  const known = Object.values(enumObj).filter((v) => typeof v === 'number' && v >= 0)
  if (!known.includes(value)) {
    throw new WireDecodeError(`${field} has unknown value ${value}`)
  }
  return value as T
}

/**
 * Runs a generated decoder and turns its failures (truncated input, a uint64 above 2^53-1, a bad
 * wire type) into a WireDecodeError that names what was being decoded.
 */
export function decodeWith<T>(what: string, decode: () => T): T {
  try {
    return decode()
  } catch (err) {
    if (err instanceof WireDecodeError) throw err
    const reason = err instanceof Error ? err.message : String(err)
    throw new WireDecodeError(`cannot decode ${what}: ${reason}`)
  }
}
