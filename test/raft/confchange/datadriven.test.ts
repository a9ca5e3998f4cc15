// Golden-file tests of the Changer (in the style of etcd-io/raft confchange/testdata).
// Commands, each applied to the tracker state left by the previous successful command of the
// same file (every file starts from the empty config with maxInflight 10):
//   simple                  input: changes   -> Changer.simple
//   enter-joint [autoleave=true|false]  input: changes -> Changer.enterJoint
//   leave-joint                                 -> Changer.leaveJoint
//   restore voters=(..) learners=(..) outgoing=(..) learners_next=(..) [autoleave=true]
//                                               -> Changer.restore of that ConfState
// Changes are written "v1 l2 r3 u4 x5" (voter, learner, remove, update, unknown type). The last
// index starts at 0 and grows by one per command, so new progress shows next = max(lastIndex, 1).
// Output: the config (etcd format) and one progress line per node, or the error message.
// Every command also checks that the input tracker was not mutated, and every success that the
// invariants hold and that the resulting ConfState restores to the same config.
import {fileURLToPath} from 'node:url'
import {expect} from 'chai'
import {findArg, runDataDrivenFiles, type TestData} from '../../harness/datadriven.js'
import {Changer, type ChangeResult} from '../../../src/raft/confchange/index.js'
import {ConfChangeError} from '../../../src/raft/errors.js'
import {ProgressTracker} from '../../../src/raft/tracker/index.js'
import type {ConfState} from '../../../src/raft/types.js'
import {checkResult, parseChanges, render} from './helpers.js'

function idsArg(td: TestData, key: string): number[] {
  return (findArg(td, key)?.vals ?? []).map(Number)
}

function boolArg(td: TestData, key: string): boolean {
  const v = findArg(td, key)?.vals[0]
  if (v !== undefined && v !== 'true' && v !== 'false') throw new Error(`${td.pos}: ${key} must be true or false`)
  return v === 'true'
}

function confStateArgs(td: TestData): ConfState {
  return {
    voters: idsArg(td, 'voters'), learners: idsArg(td, 'learners'), votersOutgoing: idsArg(td, 'outgoing'),
    learnersNext: idsArg(td, 'learners_next'), autoLeave: boolArg(td, 'autoleave'),
  }
}

function run(c: Changer, td: TestData): ChangeResult {
  switch (td.cmd) {
    case 'simple': return c.simple(parseChanges(td.input))
    case 'enter-joint': return c.enterJoint(boolArg(td, 'autoleave'), parseChanges(td.input))
    case 'leave-joint':
      if (td.input.trim() !== '') throw new Error(`${td.pos}: leave-joint takes no input`)
      return c.leaveJoint()
    case 'restore': return c.restore(confStateArgs(td))
    default: throw new Error(`${td.pos}: unknown command "${td.cmd}"`)
  }
}

/** A handler with its own tracker and last index (one per file). */
function newHandler(): (td: TestData) => string {
  const tracker = new ProgressTracker(10)
  let lastIndex = 0
  return (td) => {
    const c = new Changer(tracker, lastIndex)
    lastIndex++
    const before = render(tracker)
    let r: ChangeResult
    try {
      r = run(c, td)
    } catch (err) {
      if (!(err instanceof ConfChangeError)) throw err
      expect(render(tracker), `${td.pos}: a refused change mutated the tracker`).to.equal(before)
      return err.message + '\n'
    }
    expect(render(tracker), `${td.pos}: the change mutated the input tracker`).to.equal(before)
    checkResult(tracker, r, c.lastIndex)
    tracker.config = r.config
    tracker.progress = r.progress
    return render(tracker)
  }
}

describe('confchange golden files', () => {
  runDataDrivenFiles(fileURLToPath(new URL('./testdata', import.meta.url)), newHandler)
})
