// Property tests of the Raft core (issue 3): random groups of 3-5 RawNodes over MemoryStorage on a
// simulated network with drops, delays, duplicates, reordering, partitions, crash-restart and
// random conf changes; every safety property is checked after every step and liveness after the
// faults are healed (see simulator.ts, sim_invariants.ts, sim_liveness.ts).
//
// RAFT_PROPERTY_RUNS=N runs N scenarios (default 40). A failure prints fast-check's seed and path;
// replay it with RAFT_PROPERTY_SEED=<seed> RAFT_PROPERTY_PATH=<path> (and the same RUNS).
import {expect} from 'chai'
import fc from 'fast-check'
import {memoryStorageFactory, runScenario, scenarioArb} from './simulator.js'

function envInt(name: string, dflt: number): number {
  const v = process.env[name]
  if (v === undefined || v === '') return dflt
  const n = Number(v)
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${v}"`)
  return n
}

const RUNS = envInt('RAFT_PROPERTY_RUNS', 40)
const SEED = process.env.RAFT_PROPERTY_SEED
const PATH = process.env.RAFT_PROPERTY_PATH

describe('raft property: safety under faults and membership changes, liveness after healing', function () {
  this.timeout(0)

  it(`holds for ${RUNS} random scenarios over MemoryStorage`, () => {
    const details = fc.check(fc.property(scenarioArb(50, 400), (sc) => runScenario(sc, memoryStorageFactory)), {
      numRuns: RUNS,
      ...(SEED !== undefined ? {seed: Number(SEED)} : {}),
      ...(PATH !== undefined ? {path: PATH} : {}),
    })
    if (details.failed) {
      const err = details.errorInstance
      const cause = err instanceof Error ? err.message : String(err)
      const report = `${fc.defaultReportMessage(details) ?? 'property failed'}\nFailure: ${cause}`
      const replay = `\nReplay: RAFT_PROPERTY_SEED=${details.seed} RAFT_PROPERTY_PATH="${details.counterexamplePath ?? ''}" ` +
        `RAFT_PROPERTY_RUNS=${RUNS} npx mocha test/raft/property/raft_safety.test.ts`
      throw new Error(report + replay)
    }
    expect(details.numRuns).to.equal(RUNS)
  })
})
