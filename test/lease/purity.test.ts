import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {importSpecifiers} from '../architecture/deps.js'

const LEASE = fileURLToPath(new URL('../../src/lease/', import.meta.url))

/**
 * The leader-side timer logic and what it uses: no I/O, clock, timers or randomness of its own
 * (the error base class comes from the pure core).
 */
const PURE = ['lessor.ts', 'heap.ts', 'grant.ts', 'types.ts', 'id.ts', 'errors.ts']
const PURE_IMPORTS = new Set(['../raft/errors.js', ...PURE.map((f) => `./${f.replace(/\.ts$/, '.js')}`)])

describe('lease: the Lessor stays pure', () => {
  for (const file of PURE) {
    it(`${file} imports only pure lease files and uses no clock, timer or randomness`, () => {
      const src = readFileSync(`${LEASE}${file}`, 'utf8')
      const imports = importSpecifiers(src)
      expect(imports.filter((s) => !PURE_IMPORTS.has(s)), 'imports').to.deep.equal([])
      const code = src.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')
      expect(code).not.to.match(/\b(Date\.now|new Date|performance\.now|process\.hrtime|setTimeout|setInterval|setImmediate|Math\.random)\b/)
    })
  }
})
