/**
 * The Raft property test as a reusable function: checkRaftProperty(factory, options) runs
 * fast-check over random scenarios (sim_scenario.ts) on the storage the factory makes, checking
 * every safety property after every step and liveness at the end (simulator.ts). The lead can run
 * the very same property over another Storage (RocksDB) by passing its own StorageFactory.
 */
import fc from 'fast-check'
import {runScenario, scenarioArb, type StorageFactory} from './simulator.js'

export interface PropertyOptions {
  /** Number of scenarios. */
  readonly runs: number
  /** fast-check seed; undefined draws a random one (printed on failure). */
  readonly seed?: number
  /** fast-check replay path of a failure (with its seed). */
  readonly path?: string
  /** Bounds of the number of actions per scenario (default 100..500). */
  readonly minActions?: number
  readonly maxActions?: number
  /** Whether to check liveness after healing (default true). */
  readonly liveness?: boolean
  /**
   * The command to print for replaying a failure; the words SEED and PATH are substituted (not
   * inside longer names such as RAFT_PROPERTY_SEED).
   */
  readonly replay?: string
}

/**
 * Runs the property; throws an Error carrying fast-check's report (seed, path, shrunk scenario),
 * the broken property with the last steps, and a replay command. Returns the number of scenarios.
 */
export async function checkRaftProperty(factory: StorageFactory, o: PropertyOptions): Promise<number> {
  const arb = scenarioArb(o.minActions ?? 100, o.maxActions ?? 500)
  const details = await fc.check(fc.asyncProperty(arb, (sc) => runScenario(sc, factory, {liveness: o.liveness ?? true})), {
    numRuns: o.runs,
    ...(o.seed !== undefined ? {seed: o.seed} : {}),
    ...(o.path !== undefined && o.path !== '' ? {path: o.path} : {}),
  })
  if (details.failed) {
    const err = details.errorInstance
    const cause = err instanceof Error ? err.message : String(err)
    const replay = replayCommand(o.replay ?? 'seed SEED, path PATH', details.seed, details.counterexamplePath ?? '')
    throw new Error(`${fc.defaultReportMessage(details) ?? 'property failed'}\nFailure: ${cause}\nReplay: ${replay}`)
  }
  return details.numRuns
}

/** Substitutes the standalone words SEED and PATH of a replay command template. */
export function replayCommand(template: string, seed: number, path: string): string {
  return template.replace(/\bSEED\b/g, () => String(seed)).replace(/\bPATH\b/g, () => path)
}
