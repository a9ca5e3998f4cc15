/**
 * The node's one serialized loop (raft-rs's "the application owns the loop"). Everything that
 * touches the RawNode — ticks, peer messages, proposals, reads, reports — is an input queued in
 * the mailbox. The loop runs inputs in arrival order, then, while the RawNode has a Ready, hands
 * it to the Ready handler (persist → send → apply, which is asynchronous) and advances it.
 * Inputs that arrive while a Ready is being handled wait in the mailbox: nothing steps the
 * RawNode between ready() and advance(). Each turn takes one Ready, so the inputs that arrived
 * meanwhile (ticks, heartbeat responses) run between two Readys; the core caps the committed
 * entries of one Ready (Config.maxCommittedSizePerReady), so a burst is applied over several
 * turns and never holds the node's own heartbeats back for long.
 *
 * Errors. An input's refusal (isRefusal: one of the core's documented refusals, which change
 * nothing, or an answer of the node such as "not the leader") is returned to whoever submitted
 * it. Any other error — a broken invariant of the core (RaftInvariantError), a misuse, a bug —
 * is fatal, like an error while handling a Ready: the RawNode may be half-changed, and the node
 * cannot know what was persisted or applied, so the loop stops at once, runs nothing more, and
 * calls onFatal (DESIGN.md §3: it never silently continues).
 *
 * Admission. Proposals (propose()) are bounded before they reach the core: at most
 * maxQueuedProposals wait in the mailbox, and a proposal is refused when it runs while more than
 * maxUnappliedEntries committed entries wait to be applied (etcd refuses past 5,000). Both are
 * answered RESOURCE_EXHAUSTED, safe to retry: nothing was proposed.
 */
import {
  ConfChangeError, InvalidInputError, ProposalDroppedError, type RawNode, type Ready, StepLocalMsgError,
  StepPeerNotFoundError,
} from '../raft/index.js'
import {LoopStoppedError, NodeError, tooManyRequests} from './errors.js'

export {LoopStoppedError} from './errors.js'

export interface LoopHooks {
  /** Persists, sends and applies one Ready; the loop calls advance() when it resolves. */
  readonly handleReady: (rd: Ready) => Promise<void>
  /** Called once after advance() of each Ready. */
  readonly afterAdvance?: () => void
  /** Called with the error that stopped the loop. */
  readonly onFatal: (err: unknown) => void
}

/** The bounds of admission control (see the module comment); both are positive integers. */
export interface LoopLimits {
  /** Proposals that may wait in the mailbox; propose() refuses more (--max-queued-proposals). */
  readonly maxQueuedProposals: number
  /** Committed entries not yet applied beyond which a proposal is refused (--max-unapplied-entries). */
  readonly maxUnappliedEntries: number
}

interface Input {
  readonly run: (rn: RawNode) => unknown
  readonly resolve: (v: unknown) => void
  readonly reject: (e: unknown) => void
  /** True for a proposal, counted in queuedProposals until it runs. */
  readonly proposal: boolean
}

/**
 * Whether `err`, thrown by an input, is a refusal that changed nothing: a refusal the core
 * documents for its inputs (RawNode: ProposalDroppedError, ConfChangeError for an invalid change,
 * StepLocalMsgError, StepPeerNotFoundError, InvalidInputError — each thrown before any state
 * changed), or an answer of the node itself (NodeError, thrown before the input reached the core).
 */
export function isRefusal(err: unknown): boolean {
  return err instanceof ProposalDroppedError || err instanceof ConfChangeError || err instanceof StepLocalMsgError ||
    err instanceof StepPeerNotFoundError || err instanceof InvalidInputError || err instanceof NodeError
}

export class NodeLoop {
  private inputs: Input[] = []
  private running: Promise<void> | undefined
  private stopped = false
  private fatal: unknown = undefined
  /** Ticks waiting in the mailbox; at most MAX_PENDING_TICKS are kept. */
  private pendingTicks = 0
  /** Proposals waiting in the mailbox. Invariant: at most limits.maxQueuedProposals. */
  private queuedProposals = 0

  constructor(private readonly rn: RawNode, private readonly hooks: LoopHooks, private readonly limits: LoopLimits) {}

  /**
   * Runs `fn` on the RawNode inside the loop and returns its result; rejects with the refusal
   * fn threw (an error that is not a refusal also stops the loop). Rejects at once when the loop
   * has stopped.
   */
  call<T>(fn: (rn: RawNode) => T): Promise<T> {
    return this.enqueue(fn, false)
  }

  /**
   * Like call(), for an input that proposes: refused with RESOURCE_EXHAUSTED (tooManyRequests)
   * when maxQueuedProposals proposals already wait, or when it runs while more than
   * maxUnappliedEntries committed entries wait to be applied; `fn` then does not run.
   */
  propose<T>(fn: (rn: RawNode) => T): Promise<T> {
    if (!this.stopped && this.queuedProposals >= this.limits.maxQueuedProposals) {
      return Promise.reject(tooManyRequests(`${this.queuedProposals} proposals already wait for this node's loop ` +
        `(--max-queued-proposals ${this.limits.maxQueuedProposals})`))
    }
    return this.enqueue((rn) => {
      this.checkUnapplied(rn)
      return fn(rn)
    }, true)
  }

  /**
   * Queues `fn` without a result. A refusal, or the loop stopping before it ran, is given to
   * `onError` (default: ignored); an error that stops the loop goes to onFatal, not here.
   */
  post(fn: (rn: RawNode) => void, onError?: (err: unknown) => void): void {
    this.call(fn).catch((err) => {
      if (err !== this.fatal) onError?.(err)
    })
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

  private enqueue<T>(fn: (rn: RawNode) => T, proposal: boolean): Promise<T> {
    if (this.stopped) return Promise.reject(this.stoppedError())
    if (proposal) this.queuedProposals++
    return new Promise<T>((resolve, reject) => {
      this.inputs.push({run: fn, resolve: resolve as (v: unknown) => void, reject, proposal})
      this.kick()
    })
  }

  /** Refuses a proposal while more than maxUnappliedEntries committed entries wait to be applied. */
  private checkUnapplied(rn: RawNode): void {
    const {commit, applied} = rn.status()
    if (commit - applied <= this.limits.maxUnappliedEntries) return
    throw tooManyRequests(`${commit - applied} committed entries wait to be applied on this node ` +
      `(--max-unapplied-entries ${this.limits.maxUnappliedEntries})`)
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
    let batch: Input[] = []
    try {
      for (;;) {
        batch = this.inputs.splice(0)
        while (batch.length > 0) this.runInput(batch.shift()!)
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
      for (const i of [...batch, ...this.inputs.splice(0)]) i.reject(this.stoppedError())
      this.hooks.onFatal(err)
    }
  }

  /** Runs one input: a refusal goes back to its submitter; any other error is rethrown (fatal). */
  private runInput(input: Input): void {
    if (input.proposal) this.queuedProposals--
    if (this.stopped) {
      input.reject(this.stoppedError())
      return
    }
    let result: unknown
    try {
      result = input.run(this.rn)
    } catch (err) {
      input.reject(err)
      if (isRefusal(err)) return
      throw err
    }
    input.resolve(result)
  }

  private stoppedError(): Error {
    const why = this.fatal === undefined ? 'the node is stopping' : `the node stopped after an error: ${(this.fatal as Error)?.message ?? String(this.fatal)}`
    return new LoopStoppedError(why)
  }
}


const MAX_PENDING_TICKS = 3
