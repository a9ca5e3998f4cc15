// The Raft property test of test/raft/property (safety after every step under drops, reordering,
// partitions, crashes and membership changes; liveness after healing) run over the RocksDB
// storage instead of MemoryStorage: every node persists through RaftStorage into a real RocksDB
// in a temporary dir, and every restart closes the database and opens the data dir again from
// disk (rocks_sim_storage.ts checks the reloaded state equals what the node held). A shorter run
// than the MemoryStorage one, since each Ready is a synced RocksDB write.
//
// Environment:
//   RAFT_ROCKS_PROPERTY_RUNS=N     scenarios per storage configuration (default 20)
//   RAFT_ROCKS_PROPERTY_SEED=S     fast-check seed (default fixed); "random" draws one (printed)
//   RAFT_ROCKS_PROPERTY_PATH=P     with the seed of a failure, replays the shrunk counterexample
//   RAFT_ROCKS_PROPERTY_ACTIONS=N  the most actions per scenario (default 250; at least 100)
import {mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {expect} from 'chai'
import {checkRaftProperty} from '../raft/property/sim_property.js'
import {RocksStorageFactory} from './rocks_sim_storage.js'

function envInt(name: string, dflt: number): number {
  const v = process.env[name]
  if (v === undefined || v === '') return dflt
  const n = Number(v)
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${v}"`)
  return n
}

const DEFAULT_SEED = 20261124
const RUNS = envInt('RAFT_ROCKS_PROPERTY_RUNS', 20)
const MAX_ACTIONS = Math.max(100, envInt('RAFT_ROCKS_PROPERTY_ACTIONS', 250))
const SEED = process.env.RAFT_ROCKS_PROPERTY_SEED === 'random'
  ? Math.floor(Math.random() * 0x7fffffff)
  : envInt('RAFT_ROCKS_PROPERTY_SEED', DEFAULT_SEED)
const PATH = process.env.RAFT_ROCKS_PROPERTY_PATH

describe('raft property over RocksDB storage (restart = close and reopen from disk)', function () {
  this.timeout(0)
  let base: string

  before(() => {
    base = mkdtempSync(join(tmpdir(), 'raftctl-rocks-prop-'))
  })

  after(() => {
    rmSync(base, {recursive: true, force: true})
  })

  // trailing 0 is the simulator's contract exactly (compact discards the log up to the snapshot);
  // trailing 3 keeps entries before each snapshot, as a production node does.
  for (const trailing of [0, 3]) {
    it(`holds for ${RUNS} random scenarios with compaction trailing ${trailing} (seed ${SEED})`, async () => {
      const f = new RocksStorageFactory(join(base, `t${trailing}`), trailing)
      let runs: number
      try {
        runs = await checkRaftProperty(f.factory, {
          runs: RUNS,
          seed: SEED,
          maxActions: MAX_ACTIONS,
          ...(PATH !== undefined ? {path: PATH} : {}),
          replay: `RAFT_ROCKS_PROPERTY_SEED=SEED RAFT_ROCKS_PROPERTY_PATH="PATH" RAFT_ROCKS_PROPERTY_RUNS=${RUNS} ` +
            `RAFT_ROCKS_PROPERTY_ACTIONS=${MAX_ACTIONS} npx mocha test/storage/raft_property_rocksdb.test.ts`,
        })
      } finally {
        await f.closeAll()
      }
      expect(runs).to.equal(RUNS)
      expect(f.openCount, 'databases left open').to.equal(0)
      expect(readdirSync(join(base, `t${trailing}`)), 'data dirs left behind').to.deep.equal([])
      // The run exercised what it claims to: restarts from disk, snapshots, compaction, conf changes.
      if (PATH === undefined) {
        expect(f.stats.reopened, 'restarts from disk').to.be.greaterThan(0)
        expect(f.stats.snapshotsRecorded, 'snapshots recorded').to.be.greaterThan(0)
        expect(f.stats.entriesCompacted, 'entries compacted').to.be.greaterThan(0)
        expect(f.stats.confStatesSaved, 'conf states saved').to.be.greaterThan(0)
      }
    })
  }
})
