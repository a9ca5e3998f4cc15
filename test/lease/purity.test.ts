import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {dirname, join, normalize} from 'node:path'
import {fileURLToPath} from 'node:url'
import {importSpecifiers} from '../architecture/deps.js'

const SRC = fileURLToPath(new URL('../../src/', import.meta.url))

/**
 * The leader-side timer logic and what it uses at run time: no I/O, clock, timers or randomness
 * of its own. Type-only imports are erased, so they do not count. The error base class comes from
 * the pure core; the lease error codes and NO_LEASE from the key/value store's error and hook
 * files, which are pure too.
 */
const PURE = [
  'lease/lessor.ts', 'lease/heap.ts', 'lease/grant.ts', 'lease/types.ts', 'lease/id.ts', 'lease/errors.ts',
  'kv/errors.ts', 'kv/lease_hooks.ts', 'raft/errors.ts',
]

/** The files `file` (relative to src/) imports at run time, relative to src/. */
function runtimeImports(file: string, src: string): string[] {
  const valueImports = src.split('\n').filter((l) => !/^\s*(import|export)\s+type\b/.test(l)).join('\n')
  return importSpecifiers(valueImports).map((s) => s.startsWith('.') ? normalize(join(dirname(file), s)).replace(/\.js$/, '.ts') : s)
}

describe('lease: the Lessor stays pure', () => {
  for (const file of PURE) {
    it(`${file} imports only pure files and uses no clock, timer or randomness`, () => {
      const src = readFileSync(join(SRC, file), 'utf8')
      expect(runtimeImports(file, src).filter((s) => !PURE.includes(s)), 'imports').to.deep.equal([])
      const code = src.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')
      expect(code).not.to.match(/\b(Date\.now|new Date|performance\.now|process\.hrtime|setTimeout|setInterval|setImmediate|Math\.random)\b/)
    })
  }
})
