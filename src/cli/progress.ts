/**
 * Progress display for long waits (learner catch-up, snapshot transfer). On a terminal it is a
 * cli-progress bar on stderr; without one it prints a plain line when the percentage moves by at
 * least 10 points, so logs of scripted runs stay short but still show progress. Output goes to
 * stderr, leaving stdout for the command's result (and --json).
 */
import {SingleBar} from 'cli-progress'

export interface Progress {
  update(value: number, total: number): void
  stop(): void
}

/** Creates a progress display; `label` names what is being waited for. */
export function createProgress(label: string, unit: string, quiet = false): Progress {
  if (quiet) return {update: () => {}, stop: () => {}}
  if (process.stderr.isTTY === true) return ttyProgress(label, unit)
  return lineProgress(label, unit)
}

function ttyProgress(label: string, unit: string): Progress {
  const bar = new SingleBar({
    format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit}`,
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: false,
  })
  let started = false
  return {
    update(value, total) {
      if (!started) { bar.start(Math.max(total, 1), 0); started = true }
      bar.setTotal(Math.max(total, 1))
      bar.update(Math.min(value, Math.max(total, 1)))
    },
    stop() { if (started) bar.stop() },
  }
}

function lineProgress(label: string, unit: string): Progress {
  let lastPct = -100
  return {
    update(value, total) {
      const pct = total <= 0 ? 100 : Math.floor((Math.min(value, total) / total) * 100)
      if (pct - lastPct >= 10 || (pct === 100 && lastPct !== 100)) {
        process.stderr.write(`${label}: ${pct}% (${value}/${total} ${unit})\n`)
        lastPct = pct
      }
    },
    stop() {},
  }
}
