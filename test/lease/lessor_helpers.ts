/**
 * A lessor over an in-memory replicated lease state with a fake clock: entries are applied through
 * the real LeaseBatch (as the key/value store will) and every committed change is handed to the
 * lessor, as the server will.
 */
import {LeaseBatch, Lessor, type Checkpoint, type LeaseChanges, type LessorOptions} from '../../src/lease/index.js'
import {LeaseState} from '../../src/lease/state.js'

export class FakeClock {
  constructor(public now = 0) {}
  readonly read = (): number => this.now
  advance(ms: number): void {
    this.now += ms
  }
}

/** One applied lease request. */
export type Applied =
  | {readonly grant: {readonly ID: bigint, readonly TTL: number}}
  | {readonly revoke: bigint, readonly grantedIndex?: number}
  | {readonly checkpoint: readonly Checkpoint[]}

export class LessorBench {
  readonly state = new LeaseState()
  readonly clock: FakeClock
  lessor: Lessor
  /** The Raft index of the last applied entry. */
  index = 0

  constructor(options: LessorOptions = {}, start = 0) {
    this.clock = new FakeClock(start)
    this.lessor = new Lessor(this.state, this.clock.read, options)
  }

  /** Applies one request to the replicated state and tells the lessor; returns the changes. */
  apply(req: Applied): LeaseChanges {
    const batch = new LeaseBatch(this.state, ++this.index)
    if ('grant' in req) batch.grant(req.grant)
    else if ('revoke' in req) batch.revoke(req.revoke, req.grantedIndex)
    else batch.checkpoint(req.checkpoint)
    const changes = batch.commit()
    this.lessor.applied(changes)
    return changes
  }

  grant(ID: bigint, TTL: number): void {
    this.apply({grant: {ID, TTL}})
  }

  /** Sets the clock to `ms` and returns the ids expired() reports then. */
  expiredAt(ms: number): bigint[] {
    this.clock.now = ms
    return this.lessor.expired().map((e) => e.ID)
  }
}
