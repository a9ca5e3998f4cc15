/**
 * Pacing of snapshot builds. A build reads a consistent RocksDB view and writes the snapshot file
 * on the same event loop as the node's Ready loop and apply; left alone it would take as much of
 * the loop (and of the machine's cores, which every node of a cluster needs at the same moment,
 * since all of them snapshot at the same index) as it can, and the node's writes would stall
 * while it runs. So the build works in slices of about SLICE_BYTES of records and awaits its
 * pacer before each one.
 */

/**
 * Awaited before each slice of a build with the milliseconds the previous slice took (0 before
 * the first); the build goes on once it resolves. Tests pass one that holds the build.
 */
export type SnapshotPacer = (sliceMs: number) => Promise<void>

/** Bytes of stored records in one slice (also the read-ahead of the RocksDB iterator). */
export const SLICE_BYTES = 256 << 10

/**
 * Time a build rests after a slice, relative to the slice's duration (see restingPacer): with 2
 * a build takes at most a third of the event loop; a 32 MB snapshot that takes 0.5 s of work on
 * an idle node is written in about 1.5 s.
 */
export const DEFAULT_REST_RATIO = 2

/**
 * The longest rest after one slice, so that a slice slowed down by something else (a pause of
 * the whole process) does not stop the build for long.
 */
export const MAX_REST_MS = 100

/**
 * The default pacer: after each slice the build rests `ratio` times as long as the slice took
 * (wall time, so on a busy node, where a slice takes longer, it rests longer), at most
 * MAX_REST_MS. A build therefore uses at most 1 / (1 + ratio) of the event loop, and the Ready
 * loop's callbacks never wait behind more than one slice.
 */
export function restingPacer(ratio = DEFAULT_REST_RATIO): SnapshotPacer {
  return (sliceMs) => new Promise((resolve) => setTimeout(resolve, restMs(sliceMs, ratio)))
}

/** How long restingPacer(ratio) rests after a slice that took `sliceMs`. */
export function restMs(sliceMs: number, ratio: number): number {
  return Math.min(MAX_REST_MS, Math.max(0, sliceMs * ratio))
}
