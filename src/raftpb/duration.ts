/**
 * Durations as operators write them, shared by the CLI's flags and the server's settings so that
 * both read the same text the same way: one or more number-and-unit parts ("500ms", "5s", "2m",
 * "1h", "1h30m", "1.5s"; units ns, us, µs, ms, s, m, h), or a bare number in the unit the caller
 * names (seconds for --timeout, hours for etcd's --auto-compaction-retention).
 */

/** The longest duration a timer can wait: Node.js timers fire at once for anything above 2^31-1 ms. */
export const MAX_DURATION_MS = 2 ** 31 - 1

const UNIT_MS: Readonly<Record<string, number>> = {ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000}
const PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g

/**
 * The milliseconds `text` names (rounded to an integer), or undefined when it is not a duration.
 * `bare` is the unit of a number written without one; without it such a number is refused.
 */
export function durationMs(text: string, bare?: 'ms' | 's' | 'h'): number | undefined {
  const t = text.trim()
  if (bare !== undefined && /^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * UNIT_MS[bare])
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(t)) return undefined
  let ms = 0
  for (const m of t.matchAll(PART)) ms += Number(m[1]) * UNIT_MS[m[2]]
  return Math.round(ms)
}
