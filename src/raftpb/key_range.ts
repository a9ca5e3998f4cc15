/**
 * etcd's conventions for naming a range of keys with `key` and `range_end`, shared by the client
 * (which builds requests) and the server side (kv and storage, which read them) so that both
 * compute the same ranges:
 *
 * - an empty range_end names the single key `key`;
 * - the range_end "\0" (one zero byte) names every key >= `key`;
 * - any other range_end names the half-open range [key, range_end);
 * - the keys starting with a prefix p are [p, prefixEnd(p)).
 */

/** The range_end meaning "every key >= key" (etcd's "\0"). */
export const ALL_FROM: Uint8Array = Uint8Array.of(0)

/**
 * The end of the range of keys starting with `prefix`: a copy of the prefix with its last byte
 * below 0xff incremented and the bytes after it dropped. A prefix with no such byte (empty, or
 * all 0xff) has no key above its range, so its end is ALL_FROM: every key from the prefix on.
 * Invariant: every key k that starts with `prefix` has prefix <= k and, unless the end is
 * ALL_FROM, k < prefixEnd(prefix) bytewise.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] < 0xff) {
      // A copy even when `prefix` is a Buffer, whose slice() shares memory with it.
      const end = Uint8Array.prototype.slice.call(prefix, 0, i + 1)
      end[i] += 1
      return end
    }
  }
  return ALL_FROM
}

/** True when `rangeEnd` is ALL_FROM ("\0"): the range has no upper bound. */
export function isAllFrom(rangeEnd: Uint8Array): boolean {
  return rangeEnd.length === 1 && rangeEnd[0] === 0
}
