import fc from 'fast-check'
import {Simulator, memoryStorageFactory, scenarioArb} from './simulator.js'
import {settle} from './sim_liveness.js'
import {EntryType} from '../../../src/raft/types.js'
const samples = fc.sample(scenarioArb(100, 500), {numRuns: 30, seed: 42})
for (const sc of samples) {
  const sim = new Simulator(sc, memoryStorageFactory)
  let confApplied = 0, normalApplied = 0, snaps = 0
  const orig = sim.checker.applied.bind(sim.checker)
  sim.checker.applied = (n, e) => { if (e.entryType !== EntryType.EntryNormal) confApplied++; else if (e.data.length) normalApplied++; orig(n, e) }
  const origR = sim.checker.restored.bind(sim.checker)
  sim.checker.restored = (n, s) => { snaps++; origR(n, s) }
  for (const a of sc.actions) sim.step(a)
  const maxTerm = Math.max(...sim.nodes.map(n => n.rn?.raft.term ?? 0)); const maxCommit = Math.max(...sim.nodes.map(n => n.rn?.raft.raftLog.committed ?? 0))
  const t0 = Date.now()
  let err = ''
  try { settle(sim, 600) } catch (e) { err = (e as Error).message.split('\n')[0] }
  console.log(`n=${sc.nodes} v=${sc.voters} l=${sc.learners} pv=${sc.preVote} cq=${sc.checkQuorum} acts=${sc.actions.length} maxTerm=${maxTerm} commit=${maxCommit} conf=${confApplied} normal=${normalApplied} snaps=${snaps} leaders=${(sim.checker as any).leaders.size} settle=${Date.now()-t0}ms ${err}`)
}
