import fc from 'fast-check'
import {Simulator, memoryStorageFactory, scenarioArb} from './simulator.js'
import {describeAction} from './sim_scenario.js'
const samples = fc.sample(scenarioArb(100, 500), {numRuns: 30, seed: 42})
const sc = samples[Number(process.argv[2])]
const sim = new Simulator(sc, memoryStorageFactory)
for (const a of sc.actions) {
  sim.step(a)
  const st = sim.nodes.map(n => n.rn ? `${n.id}:${n.rn.raft.state.slice(5,9)}/t${n.rn.raft.term}/c${n.rn.raft.raftLog.committed}/l${n.rn.raft.raftLog.lastIndex()}` : `${n.id}:down`).join(' ')
  console.log(describeAction(a).padEnd(40), 'q=' + sim.queue.length, st)
}
const r1 = sim.nodes[0].rn!.raft
console.log('elapsed', r1.electionElapsed, 'rand', r1.randomizedElectionTimeout, 'promotable', r1.promotable(), 'hasReady', sim.nodes[0].rn!.hasReady(), 'snap', r1.raftLog.hasNextOrInProgressSnapshot(), r1.raftLog.unstable)
for (let i = 0; i < 30; i++) { sim.nodes[0].rn!.tick(); }
console.log('after ticks', r1.state, r1.term, r1.electionElapsed, sim.nodes[0].rn!.hasReady())
