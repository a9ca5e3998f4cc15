/**
 * A steady put load for the cluster benchmarks, and its per-second figures.
 *
 * PutLoad runs `concurrency` closed-loop writers, each putting a `valueBytes` value under one of
 * `keys` keys (bench/<n>, the same keys the preload wrote, so the data set keeps its size). Every
 * put's completion time and latency is recorded; a failed put is recorded too and its writer
 * pauses briefly. The writers stop at stop() or, at the latest, after `maxMs`.
 *
 * perSecond() cuts the samples into one-second buckets by completion time and marks each second
 * that overlaps an event window (a snapshot being built, a learner catching up) as "during";
 * compare() sets the seconds during events against the others.
 */
import type {RaftctlClient} from '../src/client/index.js'

export interface Sample {
  /** Completion time (ms since the epoch). */
  readonly end: number
  /** Latency in ms. */
  readonly ms: number
  readonly ok: boolean
}

export interface LoadOptions {
  readonly keys: number
  readonly valueBytes: number
  readonly concurrency: number
  /** Hard upper bound of the run, whatever happens to stop(). */
  readonly maxMs: number
}

export const benchKey = (n: number): string => `bench/${String(n).padStart(7, '0')}`

export class PutLoad {
  readonly samples: Sample[] = []
  startedAt = 0
  private stopped = false
  private workers: Promise<void>[] = []

  constructor(private readonly client: RaftctlClient, private readonly opts: LoadOptions) {}

  start(): this {
    this.startedAt = Date.now()
    const deadline = this.startedAt + this.opts.maxMs
    const value = Buffer.alloc(this.opts.valueBytes, 'v')
    this.workers = Array.from({length: this.opts.concurrency}, (_, w) => (async () => {
      for (let i = w; !this.stopped && Date.now() < deadline; i += this.opts.concurrency) {
        const t = Date.now()
        try {
          await this.client.put(benchKey((i * 7919) % this.opts.keys), value)
          this.samples.push({end: Date.now(), ms: Date.now() - t, ok: true})
        } catch {
          this.samples.push({end: Date.now(), ms: Date.now() - t, ok: false})
          await new Promise((r) => setTimeout(r, 50))
        }
      }
    })())
    return this
  }

  async stop(): Promise<void> {
    this.stopped = true
    await Promise.all(this.workers)
  }
}

/** A time interval [start, end] in ms since the epoch. */
export interface Window {
  readonly start: number
  readonly end: number
}

export interface SecondStat {
  readonly second: number
  readonly puts: number
  readonly failed: number
  /** p99 latency of the puts completed in this second (0 when none). */
  readonly p99: number
  readonly during: boolean
}

function p99(values: number[]): number {
  if (values.length === 0) return 0
  values.sort((a, b) => a - b)
  return values[Math.ceil(values.length * 0.99) - 1]
}

/**
 * Per-second figures of the samples completed in [from, to). A second is "during" when it
 * overlaps a window extended by `tailMs` (the time a stall takes to drain).
 */
export function perSecond(samples: readonly Sample[], from: number, to: number, windows: readonly Window[], tailMs: number): SecondStat[] {
  const n = Math.floor((to - from) / 1000)
  const lat: number[][] = Array.from({length: n}, () => [])
  const failed = new Array<number>(n).fill(0)
  for (const s of samples) {
    const b = Math.floor((s.end - from) / 1000)
    if (b < 0 || b >= n) continue
    if (s.ok) lat[b].push(s.ms)
    else failed[b]++
  }
  return lat.map((l, i) => {
    const a = from + i * 1000
    const during = windows.some((w) => a < w.end + tailMs && a + 1000 > w.start)
    return {second: i, puts: l.length, failed: failed[i], p99: p99(l), during}
  })
}

export interface Summary {
  readonly seconds: number
  readonly meanPuts: number
  readonly worstPuts: number
  /** Median of the per-second p99s. */
  readonly medianP99: number
  /** Largest per-second p99. */
  readonly maxP99: number
  readonly failed: number
}

function summary(stats: readonly SecondStat[]): Summary {
  if (stats.length === 0) return {seconds: 0, meanPuts: 0, worstPuts: 0, medianP99: 0, maxP99: 0, failed: 0}
  const p = stats.map((s) => s.p99).sort((a, b) => a - b)
  return {
    seconds: stats.length,
    meanPuts: stats.reduce((a, s) => a + s.puts, 0) / stats.length,
    worstPuts: Math.min(...stats.map((s) => s.puts)),
    medianP99: p[Math.floor(p.length / 2)],
    maxP99: p[p.length - 1],
    failed: stats.reduce((a, s) => a + s.failed, 0),
  }
}

/** Summaries of the seconds without and during events. */
export function compare(stats: readonly SecondStat[]): {without: Summary, during: Summary} {
  return {without: summary(stats.filter((s) => !s.during)), during: summary(stats.filter((s) => s.during))}
}

/** Prints the comparison as the lines docs/testing.md records. */
export function printComparison(title: string, stats: readonly SecondStat[], verbose: boolean): void {
  const {without, during} = compare(stats)
  const line = (what: string, s: Summary): string =>
    `  ${what.padEnd(8)} ${String(s.seconds).padStart(3)} s: ${s.meanPuts.toFixed(0).padStart(5)} puts/s ` +
    `(worst second ${s.worstPuts}), per-second p99 median ${s.medianP99} ms, max ${s.maxP99} ms, failed puts ${s.failed}`
  console.log(title)
  console.log(line('without', without))
  console.log(line('during', during))
  if (without.meanPuts > 0 && during.seconds > 0) {
    console.log(`  ratio during/without: ${(during.meanPuts / without.meanPuts).toFixed(2)} mean puts/s, ` +
      `${(during.worstPuts / without.meanPuts).toFixed(2)} worst second; p99 max ${(during.maxP99 / Math.max(1, without.medianP99)).toFixed(1)}x the usual`)
  }
  if (verbose) {
    console.log(`  per second: ${stats.map((s) => `${s.puts}${s.during ? '*' : ''}/${s.p99}`).join(' ')}  (puts/p99 ms, * = during)`)
  }
}
