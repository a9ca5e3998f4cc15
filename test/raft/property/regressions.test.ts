// Replays every scenario in ./regressions/*.json through runScenario (safety after every step,
// liveness after healing): counterexamples the property test found, kept so that the bug they
// exposed stays fixed whatever the fast-check seed. To add one, save fast-check's shrunk
// counterexample (the Scenario object) as {"description", "found", "scenario"}.
import {readdirSync, readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {memoryStorageFactory, runScenario, type Scenario} from './simulator.js'

interface Regression {
  readonly description: string
  readonly found: string
  readonly scenario: Scenario
}

const dir = fileURLToPath(new URL('./regressions/', import.meta.url))

describe('raft property regressions (counterexamples found by the property test)', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const reg = JSON.parse(readFileSync(dir + file, 'utf8')) as Regression
    it(`${file}: ${reg.description}`, async () => {
      await runScenario(reg.scenario, memoryStorageFactory)
    })
  }
})
