/**
 * The server uses the Raft core through RawNode's public methods only (DESIGN.md §1, STYLE.md:
 * "a layer uses another's public API only"): `RawNode.raft` is the core's internal state, exposed
 * for the core's own tests. This scans every source file outside src/raft for a use of it.
 */
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'
import {expect} from 'chai'

const SRC = fileURLToPath(new URL('../../src', import.meta.url))

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) return name === 'raft' && dir === SRC ? [] : sources(p)
    return p.endsWith('.ts') ? [p] : []
  })
}

/** `rn.raft`, `node.rn.raft`, `.raft.raftLog`, `.raft.trk`: the RawNode's internal state. */
const INTERNAL = /\brn\.raft\b|\.raft\.(raftLog|trk|readOnly)\b/

describe('the server uses RawNode through its public API', () => {
  it('no file outside src/raft reads RawNode.raft', () => {
    const uses = sources(SRC).flatMap((file) => readFileSync(file, 'utf8').split('\n')
      .map((line, i) => ({line, at: `${relative(SRC, file)}:${i + 1}`}))
      .filter(({line}) => INTERNAL.test(line)).map(({at, line}) => `${at}: ${line.trim()}`))
    expect(uses).to.deep.equal([])
  })
})
