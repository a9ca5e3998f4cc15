/**
 * Small helpers over sets of node ids shared by the quorum types. Node ids are positive safe
 * integers; id 0 means "no node" and is dropped wherever a set of voters is built.
 */

/**
 * Returns the distinct non-zero ids of `ids`, sorted ascending. Throws a RangeError naming the
 * offending value if an id is not a non-negative safe integer.
 */
export function normalizeIds(ids: Iterable<number>): number[] {
  const seen = new Set<number>()
  for (const id of ids) {
    if (!Number.isSafeInteger(id) || id < 0) {
      throw new RangeError(`invalid node id ${String(id)}: must be a non-negative safe integer`)
    }
    if (id !== 0) seen.add(id)
  }
  return [...seen].sort((a, b) => a - b)
}

/** Formats sorted ids as etcd does: "(1 2 3)", or "()" when there are none. */
export function formatIds(sorted: readonly number[]): string {
  return `(${sorted.join(' ')})`
}

/**
 * Formats an index for humans: Infinity (the committed index of an empty config, etcd's
 * math.MaxUint64) prints as "∞".
 */
export function formatIndex(index: number): string {
  return index === Infinity ? '∞' : String(index)
}
