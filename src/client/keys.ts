/**
 * Keys as the client takes them (strings are UTF-8) and etcd's range_end conventions: an empty
 * range_end is the single key, "\0" every key from `key` on, and a prefix p is the range
 * [p, prefixEnd(p)).
 */

/** A key or value: a string (encoded as UTF-8) or raw bytes. */
export type Bytes = string | Uint8Array

const encoder = new TextEncoder()

export function toBytes(b: Bytes): Uint8Array {
  return typeof b === 'string' ? encoder.encode(b) : b
}

/** Decodes bytes as UTF-8 (for display and tests). */
export function bytesToString(b: Uint8Array): string {
  return new TextDecoder().decode(b)
}

/** The range_end meaning "every key >= key". */
export const ALL_FROM: Uint8Array = Uint8Array.of(0)

/**
 * The end of the range of keys starting with `prefix`: its last byte below 0xff incremented and
 * the bytes after it dropped; "\0" (every key) when there is no such byte.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] < 0xff) {
      const end = prefix.slice(0, i + 1)
      end[i] += 1
      return end
    }
  }
  return ALL_FROM
}

/** The range_end for a request: explicit, a prefix's end, or empty (one key). */
export function rangeEndFor(key: Uint8Array, opts: {prefix?: boolean, rangeEnd?: Bytes}): Uint8Array {
  if (opts.prefix === true && opts.rangeEnd !== undefined) throw new Error('give either prefix or rangeEnd, not both')
  if (opts.prefix === true) return prefixEnd(key)
  return opts.rangeEnd === undefined ? new Uint8Array(0) : toBytes(opts.rangeEnd)
}
