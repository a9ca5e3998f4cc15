/**
 * The Changer computes configuration changes (Raft thesis §4.1 single-server changes and §4.3
 * joint consensus), modelled on etcd-io/raft v3.6 confchange/confchange.go with raft-rs's
 * incoming/outgoing names. It never mutates the tracker it was given: every operation works on
 * a deep copy and returns a new config and progress map (or throws ConfChangeError and changes
 * nothing), which the core installs with switchToConfig.
 */
import {ConfChangeError} from '../errors.js'
import type {MajorityConfig} from '../quorum/index.js'
import {Progress, ProgressTracker} from '../tracker/index.js'
import type {ConfChangeSingle, ConfState} from '../types.js'
import {applyChanges, type Draft, draftOf, finish, type NewProgress} from './apply.js'
import {formatConfState, normalizeConfState, sameConfState, toConfChangeSingle} from './restore.js'
import type {ChangeResult} from './result.js'

/** Computes new configurations from the tracker's current one. */
export class Changer {
  /**
   * `lastIndex` is the index of the last log entry; nodes added by a change start probing
   * there (next = max(lastIndex, 1)).
   */
  constructor(readonly tracker: ProgressTracker, readonly lastIndex: number) {
    if (!Number.isSafeInteger(lastIndex) || lastIndex < 0) {
      throw new ConfChangeError(`lastIndex must be a non-negative safe integer, got ${lastIndex}`)
    }
  }

  /**
   * Applies `changes` without joint consensus (thesis §4.1). Refused if the config is joint, if
   * no voter is left, or if more than one voter is added or removed (that needs enterJoint).
   */
  simple(changes: readonly ConfChangeSingle[]): ChangeResult {
    const d = this.checkAndCopy()
    if (d.outgoing.size > 0) {
      throw new ConfChangeError("config is already joint: can't apply a simple config change before leaving it")
    }
    applyChanges(d, changes, this.newProgress)
    const before = this.tracker.config.voters.incoming
    if (symdiff(before, d.incoming) > 1) {
      throw new ConfChangeError('more than one voter changed without entering joint config: ' +
        `voters ${before} would become ${formatSet(d.incoming)}`)
    }
    return finish(d)
  }

  /**
   * Enters a joint config (thesis §4.3): the current voters become the outgoing half and
   * `changes` are applied to the incoming half. With `autoLeave` the leader leaves the joint
   * config automatically once this change is applied. Refused if the config is already joint,
   * has no voters, or the changes would leave no incoming voter.
   */
  enterJoint(autoLeave: boolean, changes: readonly ConfChangeSingle[]): ChangeResult {
    if (typeof autoLeave !== 'boolean') throw new ConfChangeError(`autoLeave must be a boolean, got ${String(autoLeave)}`)
    const d = this.checkAndCopy()
    if (d.outgoing.size > 0) throw new ConfChangeError('config is already joint')
    if (d.incoming.size === 0) throw new ConfChangeError("can't make a zero-voter config joint")
    for (const id of d.incoming) d.outgoing.add(id)
    applyChanges(d, changes, this.newProgress)
    d.autoLeave = autoLeave
    return finish(d)
  }

  /**
   * Leaves the joint config: the incoming half becomes the config, learnersNext become
   * learners, nodes that are neither incoming voters nor learners lose their progress, and
   * autoLeave is cleared. Refused if the config is not joint.
   */
  leaveJoint(): ChangeResult {
    const d = this.checkAndCopy()
    if (d.outgoing.size === 0) throw new ConfChangeError("config is not joint: can't leave a non-joint config")
    for (const id of d.learnersNext) {
      d.learners.add(id)
      const pr = d.progress.get(id)
      if (pr !== undefined) pr.isLearner = true
    }
    d.learnersNext.clear()
    for (const id of d.outgoing) {
      if (!d.incoming.has(id) && !d.learners.has(id)) d.progress.delete(id)
    }
    d.outgoing.clear()
    d.autoLeave = false
    return finish(d)
  }

  /**
   * Builds the config described by `cs` from the empty config (the tracker's current config is
   * ignored; its maxInflight limits are used). A joint ConfState is restored by building the
   * outgoing voters with simple changes and then entering the joint config. Throws
   * ConfChangeError if `cs` breaks an invariant (e.g. a learner that is also a voter), i.e. if
   * it does not restore to exactly itself.
   */
  restore(cs: ConfState): ChangeResult {
    const want = normalizeConfState(cs)
    const trk = new ProgressTracker(this.tracker.maxInflight, this.tracker.maxInflightBytes)
    const chain = (op: (c: Changer) => ChangeResult): void => {
      const {config, progress} = op(new Changer(trk, this.lastIndex))
      trk.config = config
      trk.progress = progress
    }
    const {outgoing, incoming} = toConfChangeSingle(want)
    const steps = outgoing.length === 0 ? incoming : outgoing
    for (const cc of steps) chain((c) => c.simple([cc]))
    if (outgoing.length > 0) chain((c) => c.enterJoint(want.autoLeave, incoming))
    const got = trk.confState()
    if (!sameConfState(want, got)) {
      throw new ConfChangeError(`ConfState ${formatConfState(want)} is inconsistent: it restores as ${formatConfState(got)}`)
    }
    return {config: trk.config, progress: trk.progress}
  }

  /** A new node's progress: Probe, match 0, next = max(lastIndex, 1), recently active. */
  private readonly newProgress: NewProgress = (isLearner) => {
    const pr = new Progress({
      next: Math.max(this.lastIndex, 1), match: 0, isLearner,
      maxInflight: this.tracker.maxInflight, maxInflightBytes: this.tracker.maxInflightBytes,
    })
    // A node just added counts as active, so check-quorum does not step down before it replied.
    pr.recentActive = true
    return pr
  }

  /** Copies the tracker's state after checking that it satisfies the invariants. */
  private checkAndCopy(): Draft {
    const d = draftOf(this.tracker.config, this.tracker.progress)
    finish(d)
    return d
  }
}

/** The number of ids in exactly one of `a` and `b`. */
function symdiff(a: MajorityConfig, b: ReadonlySet<number>): number {
  let n = 0
  for (const id of a) if (!b.has(id)) n++
  for (const id of b) if (!a.has(id)) n++
  return n
}

/** "(1 2 3)" for a set of ids. */
function formatSet(ids: ReadonlySet<number>): string {
  return `(${[...ids].sort((a, b) => a - b).join(' ')})`
}
