/**
 * Helpers for the snapshot tests of the server: a pacer that can hold a snapshot build (Gate)
 * and a node logger whose JSON lines are kept for assertions.
 */
import {Writable} from 'node:stream'
import type {SnapshotPacer} from '../../src/kv/index.js'
import {createLogger, type NodeLogger} from '../../src/server/logger.js'

/**
 * A SnapshotPacer that lets builds run until hold() is called; then the next build stops at its
 * next slice (the first one starts right after the build captured its consistent view) until
 * release(). `entered` resolves when a build is being held.
 */
export class Gate {
  calls = 0
  private held: Promise<void> | undefined
  private open: (() => void) | undefined
  private signal: (() => void) | undefined
  entered: Promise<void> = Promise.resolve()

  readonly pacer: SnapshotPacer = async () => {
    this.calls++
    if (this.held === undefined) return
    this.signal?.()
    await this.held
  }

  hold(): void {
    this.held = new Promise((resolve) => { this.open = resolve })
    this.entered = new Promise((resolve) => { this.signal = resolve })
  }

  release(): void {
    this.open?.()
    this.held = undefined
  }
}

/** A node logger (JSON, info level) that keeps every line it writes. */
export function capturingLogger(nodeId = 1): {log: NodeLogger, lines: Array<Record<string, unknown>>, events: (name: string) => Array<Record<string, unknown>>} {
  const lines: Array<Record<string, unknown>> = []
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>)
      cb()
    },
  })
  const log = createLogger({level: 'info', format: 'json', nodeId, destination})
  return {log, lines, events: (name) => lines.filter((l) => l.event === name)}
}
