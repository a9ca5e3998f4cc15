import fc from 'fast-check'
import {writeFileSync} from 'node:fs'
import {memoryStorageFactory, runScenario, scenarioArb} from './simulator.js'
const runs = Number(process.argv[2] ?? 1000)
const seed = process.argv[3] ? Number(process.argv[3]) : undefined
const d = fc.check(fc.property(scenarioArb(100, 500), (sc) => runScenario(process.env.SDR ? {...sc, stepDownOnRemoval: process.env.SDR === "1"} : sc, memoryStorageFactory, {liveness: process.env.LIVE !== "0"})), {numRuns: runs, ...(seed !== undefined ? {seed} : {})})
if (d.failed) {
  writeFileSync(process.argv[4] ?? '/tmp/simdbg/fail.json', JSON.stringify(d.counterexample![0]))
  console.log('seed', d.seed, 'FAIL:', (d.errorInstance as Error).message.split('\n').slice(0, 6).join('\n'))
} else console.log('ok', d.numRuns)
