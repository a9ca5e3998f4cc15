/**
 * The node's one serialized loop (raft-rs's "the application owns the loop"). Everything that
 * touches the RawNode — ticks, peer messages, proposals, reads, reports — is an input queued in
 * the mailbox. The loop runs inputs in arrival order, then, while the RawNode has a Ready, hands
 * it to the Ready handler (persist → send → apply, which is asynchronous) and advances it.
 * Inputs that arrive while a Ready is being handled wait in the mailbox: nothing steps the
 * RawNode between ready() and advance().
 *
 * An error thrown by an input is returned to whoever submitted it (a refused proposal, a message
 * the core refused to step). An error thrown while handling a Ready is fatal: the node cannot
 * know what was persisted or applied, so it stops (DESIGN.md §3: it never silently continues).
 */
import {CodedError, withCode} from '../raft/errors.js'
import type {RawNode, Ready} from '../raft/index.js'

export interface LoopHooks {
  /** Persists, sends and applies one Ready; the loop calls advance() when it resolves. */
  readonly handleReady: (rd: Ready) => Promise<void>
  /** Called once after advance() of each Ready. */
  readonly afterAdvance?: () => void
  /** Called with the error that stopped the loop. */
  readonly onFatal: (err: unknown) => void
}

interface Input {
  readonly run: (rn: RawNode) => unknown
  readonly resolve: (v: unknown) => void
  readonly reject: (e: unknown) => void
}

export class NodeLoop {
  private inputs: Input[] = []
  private running: Promise<void> | undefined
  private stopped = false
  private fatal: unknown = undefined
  /** Ticks waiting in the mailbox; at most MAX_PENDING_TICKS are kept. */
  private pendingTicks = 0

  constructor(private readonly rn: RawNode, private readonly hooks: LoopHooks) {}

  /**
   * Runs `fn` on the RawNode inside the loop and returns its result; rejects with what fn threw.
   * Rejects at once when the loop has stopped.
   */
  call<T>(fn: (rn: RawNode) => T): Promise<T> {
    if (this.stopped) return Promise.reject(this.stoppedError())
    return new Promise<T>((resolve, reject) => {
      this.inputs.push({run: fn, resolve: resolve as (v: unknown) => void, reject})
      this.kick()
    })
  }

  /** Queues `fn` without a result; errors are given to `onError` (default: ignored). */
  post(fn: (rn: RawNode) => void, onError?: (err: unknown) => void): void {
    this.call(fn).catch((err) => onError?.(err))
  }

  /**
   * Queues one tick. When the loop is busy (a slow disk) ticks are coalesced to at most a few,
   * so a backlog of ticks never fires a burst of elections once the disk catches up.
   */
  tick(): void {
    if (this.stopped || this.pendingTicks >= MAX_PENDING_TICKS) return
    this.pendingTicks++
    this.post((rn) => {
      this.pendingTicks--
      rn.tick()
    })
  }

  /** Stops taking inputs, waits for the Ready in flight to finish, and rejects queued inputs. */
  async stop(): Promise<void> {
    this.stopped = true
    await this.running
    const left = this.inputs.splice(0)
    for (const i of left) i.reject(this.stoppedError())
  }

  get isStopped(): boolean {
    return this.stopped
  }

  /** Resolves once the mailbox is empty and no Ready is pending (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running
  }

  private kick(): void {
    if (this.running !== undefined || this.stopped) return
    this.running = this.run().finally(() => {
      this.running = undefined
      if (!this.stopped && this.inputs.length > 0) this.kick()
    })
  }

  private async run(): Promise<void> {
    // Inputs never run in the stack of whoever submitted them, and `running` is set before any
    // input runs, so an input that submits another never starts a second run.
    await Promise.resolve()
    try {
      for (;;) {
        const batch = this.inputs.splice(0)
        for (const input of batch) {
          if (this.stopped) {
            input.reject(this.stoppedError())
            continue
          }
          try {
            input.resolve(input.run(this.rn))
          } catch (err) {
            input.reject(err)
          }
        }
        if (this.stopped) return
        if (this.rn.hasReady()) {
          const rd = this.rn.ready()
          await this.hooks.handleReady(rd)
          this.rn.advance(rd)
          this.hooks.afterAdvance?.()
        } else if (this.inputs.length === 0) {
          return
        }
      }
    } catch (err) {
      this.fatal = err
      this.stopped = true
      for (const i of this.inputs.splice(0)) i.reject(this.stoppedError())
      this.hooks.onFatal(err)
    }
  }

  private stoppedError(): Error {
    const why = this.fatal === undefined ? 'the node is stopping' : `the node stopped after an error: ${(this.fatal as Error)?.message ?? String(this.fatal)}`
    return new LoopStoppedError(why)
  }
}

/** Raised for inputs given to a loop that has stopped. */
export class LoopStoppedError extends withCode(CodedError, 'NODE_STOPPED') {}

const MAX_PENDING_TICKS = 3
