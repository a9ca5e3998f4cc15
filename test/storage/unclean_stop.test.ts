import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {RaftStorage} from '../../src/storage/index.js'
import {KvStore} from '../../src/kv/index.js'
import {TempDirs} from './helpers.js'
import {rangeReq} from '../kv/helpers.js'

const SCRIPT = fileURLToPath(new URL('./fixtures/crash_writer.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const BATCH_ENTRIES = 20

/**
 * Runs the crash writer until it acknowledged `stopAfter` batches, kills it with SIGKILL at once
 * (usually while the next batch is being written) and returns the last acknowledged number.
 */
export function runAndKill(dir: string, mode: string, stopAfter: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, dir, mode], {cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe']})
    let lastAck = 0
    let buf = ''
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString()
      const lines = buf.split('\n')
      buf = lines.pop()!
      for (const l of lines) {
        const m = /^ack (\d+)$/.exec(l)
        if (m) lastAck = Number(m[1])
      }
      if (lastAck >= stopAfter) child.kill('SIGKILL')
    })
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(lastAck)
      else reject(new Error(`crash writer exited with ${code}: ${stderr}`))
    })
  })
}

describe('storage/unclean stop', function () {
  this.timeout(60_000)
  const tmp = new TempDirs()
  afterEach(() => tmp.cleanup())

  it('keeps the last acknowledged batch and never shows a partial batch (kill -9)', async () => {
    const dir = tmp.make()
    for (const stopAfter of [15, 40]) {
      const acked = await runAndKill(dir, 'raft', stopAfter)
      expect(acked).to.be.at.least(stopAfter)
      const s = await RaftStorage.open(dir, {clusterId: 1, nodeId: 1})
      const last = s.lastIndex()
      expect(last % BATCH_ENTRIES, 'no partial batch').to.equal(0)
      const batches = last / BATCH_ENTRIES
      expect(batches).to.be.at.least(acked).and.at.most(acked + 1)
      expect(s.hardState.commit, 'hard state from the same batch').to.equal(last)
      for (const e of s.entries(1, last + 1)) {
        const n = Math.ceil(e.index / BATCH_ENTRIES)
        expect(new TextDecoder().decode(e.data)).to.equal(`batch ${n} entry ${e.index} `.repeat(20))
      }
      await s.close()
      // The next run continues from scratch on the same dir: it overwrites from index 1.
    }
  })

  it('applies each acknowledged KV entry exactly once and never half a txn (kill -9)', async () => {
    const dir = tmp.make()
    const acked = await runAndKill(dir, 'kv', 25)
    const s = await RaftStorage.open(dir, {clusterId: 1, nodeId: 1})
    const kv = await KvStore.open(s)
    const applied = kv.appliedIndex
    expect(applied).to.be.at.least(acked).and.at.most(acked + 1)
    expect(kv.revision, 'one revision per applied txn, after the initial revision 1').to.equal(applied + 1)
    expect(kv.keyCount).to.equal(2 * applied)
    const all = await kv.range(rangeReq('\0', '\0'))
    const keys = all.kvs.map((x) => new TextDecoder().decode(x.key)).sort()
    const want: string[] = []
    for (let n = 1; n <= applied; n++) want.push(`a/${n}`, `b/${n}`)
    expect(keys).to.deep.equal(want.sort())
    for (const x of all.kvs) expect(x.modRevision).to.equal(Number(new TextDecoder().decode(x.value)) + 1)
    await kv.close()
    await s.close()
  })
})
