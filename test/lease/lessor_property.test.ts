// Property test of the Lessor over a replicated lease state, through random sequences of grants,
// keep-alives, time passing, entries committing, proposals being dropped and leader changes
// (the old leader's uncommitted suffix lost, the new leader promoting after it applied the rest).
//
// Safety: no lease is ever reported expired before its TTL has passed since its last acknowledged
// keep-alive or the apply of its grant, and a revoke the leader proposed for an expired lease only
// ever revokes that lease (not one granted again with the same id while it was in flight). A
// keep-alive counts as acknowledged at once, or, when the lessor asks for a checkpoint reset, once
// that reset entry is applied (a lost reset = a failed keep-alive, which the client retries).
// Liveness: once a leader stays, every lease is reported expired no later than its start TTL
// (checkpointed remaining, else full) plus the extension after the promote, and is revoked.
//
// Environment: LEASE_PROPERTY_RUNS=N (default 3000), LEASE_PROPERTY_SEED=S (default fixed).
import {expect} from 'chai'
import fc from 'fast-check'
import {LeaseBatch, LeaseError, Lessor, startTtl, type Checkpoint} from '../../src/lease/index.js'
import {LeaseState} from '../../src/lease/state.js'
import {FakeClock} from './lessor_helpers.js'

const RUNS = Number(process.env.LEASE_PROPERTY_RUNS ?? 3000)
const SEED = Number(process.env.LEASE_PROPERTY_SEED ?? 20261203)
/** The extension a promote gives (etcd: the election timeout); 0 is allowed too. */
const EXTEND_MS = 1000
const CHECKPOINT_MS = 5000
const MEMBERS = 3

/** A proposed entry; `ack` is what its apply acknowledges to a waiting client. */
type Entry =
  | {readonly grant: {readonly ID: bigint, readonly TTL: number}}
  /** A client's revoke, or (with `expired`) the leader's revoke of a lease it found expired. */
  | {readonly revoke: bigint, readonly expired?: {readonly grantedIndex: number, readonly reportedAt: number}}
  | {readonly checkpoint: readonly Checkpoint[], readonly ack?: {readonly id: bigint, readonly at: number}}

type Action =
  | {readonly tick: number}
  | {readonly grant: number, readonly ttl: number, readonly drop: boolean}
  | {readonly keepAlive: number, readonly drop: boolean}
  | {readonly clientRevoke: number}
  | {readonly commit: number}
  | {readonly leaderChange: number, readonly survive: number, readonly gapMs: number, readonly extendMs: number}

const ids = [1n, -4n, 1n << 62n]

const action: fc.Arbitrary<Action> = fc.oneof(
  // Mostly short steps, so an early report is seen before the TTL ends; some long ones.
  {arbitrary: fc.record({tick: fc.oneof(fc.integer({min: 1, max: 400}), fc.integer({min: 1, max: 5000}))}), weight: 6},
  {arbitrary: fc.record({grant: fc.integer({min: 0, max: ids.length - 1}), ttl: fc.integer({min: 1, max: 40}), drop: fc.boolean()}), weight: 2},
  {arbitrary: fc.record({keepAlive: fc.integer({min: 0, max: ids.length - 1}), drop: fc.boolean()}), weight: 4},
  {arbitrary: fc.record({clientRevoke: fc.integer({min: 0, max: ids.length - 1})}), weight: 1},
  {arbitrary: fc.record({commit: fc.integer({min: 1, max: 4})}), weight: 4},
  {arbitrary: fc.record({
    leaderChange: fc.integer({min: 0, max: MEMBERS - 1}), survive: fc.nat(), gapMs: fc.integer({min: 0, max: 3000}),
    extendMs: fc.constantFrom(0, EXTEND_MS),
  }), weight: 1},
)

class Model {
  readonly clock = new FakeClock(0)
  readonly state = new LeaseState()
  readonly lessors = Array.from({length: MEMBERS}, () => new Lessor(this.state, this.clock.read, {checkpointIntervalMs: CHECKPOINT_MS, revokesPerSecond: 1000}))
  leader = 0
  /** The Raft index of the last applied entry. */
  index = 0
  inFlight: Entry[] = []
  /** When each live lease was last acknowledged (grant applied, keep-alive acknowledged). */
  readonly lastAck = new Map<bigint, number>()
  promotedAt = 0

  constructor() {
    this.lessors[0].promote(EXTEND_MS)
  }

  get lessor(): Lessor {
    return this.lessors[this.leader]
  }

  run(a: Action): void {
    if ('tick' in a) return this.tick(a.tick)
    if ('grant' in a) return this.propose({grant: {ID: ids[a.grant], TTL: a.ttl}}, a.drop)
    if ('keepAlive' in a) return this.keepAlive(ids[a.keepAlive], a.drop)
    if ('clientRevoke' in a) return this.propose({revoke: ids[a.clientRevoke]}, false)
    if ('commit' in a) return this.commit(a.commit)
    this.changeLeader(a.leaderChange, a.survive, a.gapMs, a.extendMs)
  }

  /** Time passes; the leader revokes what expired (checking safety) and takes checkpoints. */
  tick(ms: number): void {
    this.clock.advance(ms)
    for (const {ID: id, grantedIndex} of this.lessor.expired()) {
      const lease = this.state.get(id)
      expect(lease, `lease ${id} reported but absent`).to.not.equal(undefined)
      expect(grantedIndex).to.equal(lease!.grantedIndex)
      this.checkExpired(id, this.clock.now)
      this.propose({revoke: id, expired: {grantedIndex, reportedAt: this.clock.now}}, false)
    }
    const cps = this.lessor.checkpoints()
    if (cps.length > 0) this.propose({checkpoint: cps}, false)
  }

  /** Safety: lease `id` as it is now may be called expired at time `at`. */
  checkExpired(id: bigint, at: number): void {
    const since = at - this.lastAck.get(id)!
    expect(since, `lease ${id} (TTL ${this.state.get(id)!.ttl} s) reported expired ${since} ms after its last acknowledgement`)
      .to.be.at.least(this.state.get(id)!.ttl * 1000)
  }

  keepAlive(id: bigint, drop: boolean): void {
    const at = this.clock.now
    const r = this.lessor.keepAlive(id)
    if (r.kind !== 'renewed') return
    if (r.reset === undefined) {
      this.lastAck.set(id, at)
      return
    }
    this.propose({checkpoint: [r.reset], ack: {id, at}}, drop)
  }

  /** A proposal enters the leader's log, or is refused at once (`drop`). */
  propose(e: Entry, drop: boolean): void {
    if (!drop) {
      this.inFlight.push(e)
      return
    }
    if ('checkpoint' in e) for (const cp of e.checkpoint) this.lessor.checkpointDropped(cp.ID)
  }

  commit(n: number): void {
    for (const e of this.inFlight.splice(0, n)) this.apply(e)
  }

  apply(e: Entry): void {
    const batch = new LeaseBatch(this.state, ++this.index)
    try {
      if ('grant' in e) batch.grant(e.grant)
      else if ('revoke' in e) batch.revoke(e.revoke, e.expired?.grantedIndex)
      else batch.checkpoint(e.checkpoint)
    } catch (err) {
      if (err instanceof LeaseError) return
      throw err
    }
    if ('revoke' in e && e.expired !== undefined) this.checkExpiredRevoke(e.revoke, e.expired)
    const changes = batch.commit()
    for (const l of this.lessors) l.applied(changes)
    for (const id of changes.granted) this.lastAck.set(id, this.clock.now)
    for (const id of changes.revoked) this.lastAck.delete(id)
    if ('checkpoint' in e && e.ack !== undefined && this.state.has(e.ack.id)) {
      this.lastAck.set(e.ack.id, Math.max(this.lastAck.get(e.ack.id)!, e.ack.at))
    }
  }

  /** An expiry revoke about to revoke lease `id`: it must be the grant found expired, and it had expired. */
  checkExpiredRevoke(id: bigint, expired: {grantedIndex: number, reportedAt: number}): void {
    expect(this.state.get(id)!.grantedIndex, `lease ${id}: an expiry revoke of another grant`).to.equal(expired.grantedIndex)
    this.checkExpired(id, expired.reportedAt)
  }

  /**
   * The leader steps down; a prefix of its uncommitted entries survives in the new leader's log
   * and is applied before the new leader promotes (after `gapMs` without a leader).
   */
  changeLeader(next: number, survive: number, gapMs: number, extendMs: number): void {
    this.lessor.demote()
    const kept = this.inFlight.slice(0, survive % (this.inFlight.length + 1))
    this.inFlight = []
    this.clock.advance(gapMs)
    for (const e of kept) this.apply(e)
    this.leader = next
    this.promotedAt = this.clock.now
    this.lessor.promote(extendMs)
  }

  /** With this leader staying, every lease is reported by its deadline and revoked. */
  drain(): void {
    this.commit(this.inFlight.length)
    this.changeLeader(this.leader, 0, 0, EXTEND_MS)
    const deadline = new Map([...this.state.list()].map((l) => [l.id, this.promotedAt + EXTEND_MS + startTtl(l) * 1000]))
    for (let i = 0; i < 200 && this.state.count > 0; i++) {
      this.tick(500)
      for (const e of this.inFlight) if ('revoke' in e) expect(this.clock.now, `lease ${e.revoke} revoked late`).to.be.at.most(deadline.get(e.revoke)! + 500)
      this.commit(this.inFlight.length)
    }
    expect(this.state.count, 'leases left after draining').to.equal(0)
  }
}

describe('lease/Lessor property: no early expiry across leader changes; every lease expires once a leader stays', function () {
  this.timeout(0)
  it(`holds for ${RUNS} random histories (seed ${SEED})`, () => {
    fc.assert(fc.property(fc.array(action, {minLength: 1, maxLength: 150, size: 'max'}), (actions) => {
      const m = new Model()
      for (const a of actions) m.run(a)
      m.drain()
    }), {seed: SEED, numRuns: RUNS})
  })
})
