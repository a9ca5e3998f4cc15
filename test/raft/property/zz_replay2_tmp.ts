import {readFileSync} from 'node:fs'
import {Simulator, memoryStorageFactory} from './simulator.js'
import {quiesce} from './sim_liveness.js'
import {describeMessage} from '../../harness/interaction_format.js'
const sc = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const sim = new Simulator(sc, memoryStorageFactory)
for (const a of sc.actions) sim.step(a)
sim.healAll(); quiesce(sim)
const orig = sim.deliver.bind(sim)
sim.deliver = (m) => { console.log('  ', describeMessage(m)); orig(m) }
for (let t = 0; t < Number(process.argv[3] ?? 5); t++) {
  console.log('tick', t); sim.tickAll(); quiesce(sim)
  const L = sim.leader(); if (L) console.log(L.id, [...L.rn!.status().progress!].map(([id, p]) => `${id}:${p.state} m=${p.match} n=${p.next} act=${p.recentActive} paused=${p.paused} ps=${p.pendingSnapshot}`).join(' | '))
}
import {describeEntry} from '../../harness/interaction_format.js'
for (const n of sim.nodes) if (n.rn) console.log(n.id, n.rn.raft.raftLog.allEntries().map(describeEntry).join(' | '), 'hs', JSON.stringify(n.rn.raft.hardState()))
