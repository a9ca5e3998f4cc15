import {readFileSync} from 'node:fs'
import {runScenario, memoryStorageFactory} from './simulator.js'
const sc = JSON.parse(readFileSync(process.argv[2], 'utf8'))
runScenario(sc, memoryStorageFactory)
console.log('passed')
