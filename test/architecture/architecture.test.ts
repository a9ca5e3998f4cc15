import {expect} from 'chai'
import {fileURLToPath} from 'node:url'
import {checkEdges, findCycles, importSpecifiers, type ImportEdge, readEdges} from './deps.js'

const SRC = fileURLToPath(new URL('../../src', import.meta.url))

describe('architecture (DESIGN.md §1)', () => {
  it('src/ follows the dependency direction and src/raft stays pure', () => {
    expect(checkEdges(readEdges(SRC))).to.deep.equal([])
  })

  it('src/ has no import cycles', () => {
    expect(findCycles(readEdges(SRC))).to.deep.equal([])
  })

  describe('the checker itself', () => {
    const edge = (from: string, spec: string, target?: string): ImportEdge => ({from, spec, target})

    it('reads static, type-only, re-export and dynamic imports', () => {
      const src = [
        "import {a} from './a.js'",
        "import type {B} from '../b.js'",
        "export * from './c.js'",
        "import 'side-effect'",
        "const m = await import('node:fs')",
      ].join('\n')
      expect(importSpecifiers(src)).to.deep.equal(['./a.js', '../b.js', './c.js', 'side-effect', 'node:fs'])
    })

    it('refuses node builtins, grpc and rocksdb inside src/raft', () => {
      const problems = checkEdges([
        edge('raft/raft.ts', 'node:crypto'),
        edge('raft/raft.ts', '@grpc/grpc-js'),
        edge('raft/raft.ts', 'rocksdb'),
      ])
      expect(problems).to.have.length(3)
    })

    it('refuses src/raft importing outside itself except eraftpb from conf_change.ts', () => {
      expect(checkEdges([edge('raft/raft.ts', '../storage/x.js', 'storage/x.ts')])).to.have.length(1)
      expect(checkEdges([edge('raft/raft.ts', '../generated/eraftpb.js', 'generated/eraftpb.ts')]))
        .to.have.length(1)
      expect(checkEdges([edge('raft/conf_change.ts', '../generated/eraftpb.js', 'generated/eraftpb.ts')]))
        .to.deep.equal([])
    })

    it('refuses upward imports and membership packages importing upwards', () => {
      expect(checkEdges([edge('raftpb/a.ts', '../client/x.js', 'client/x.ts')])).to.have.length(1)
      expect(checkEdges([edge('storage/a.ts', '../kv/x.js', 'kv/x.ts')])).to.have.length(1)
      expect(checkEdges([edge('kv/a.ts', '../lease/x.js', 'lease/x.ts')])).to.have.length(1)
      expect(checkEdges([edge('lease/a.ts', '../kv/x.js', 'kv/x.ts')])).to.deep.equal([])
      expect(checkEdges([edge('lease/a.ts', '../server/x.js', 'server/x.ts')])).to.have.length(1)
      expect(checkEdges([edge('client/a.ts', '../server/x.js', 'server/x.ts')])).to.have.length(1)
      expect(checkEdges([edge('commands/kv/put.ts', '../../server/x.js', 'server/x.ts')])).to.have.length(1)
      expect(checkEdges([edge('commands/server/start.ts', '../../server/x.js', 'server/x.ts')]))
        .to.deep.equal([])
      expect(checkEdges([edge('raft/quorum/a.ts', '../types.js', 'raft/types.ts')])).to.have.length(1)
      expect(checkEdges([edge('raft/tracker/a.ts', '../confchange/x.js', 'raft/confchange/x.ts')]))
        .to.have.length(1)
      expect(checkEdges([edge('raft/confchange/a.ts', '../tracker/x.js', 'raft/tracker/x.ts')]))
        .to.deep.equal([])
    })

    it('lets only the Lock and Election services import the client, and only its concurrency recipes', () => {
      expect(checkEdges([edge('server/services/etcd/lock.ts', '../../../client/concurrency/index.js', 'client/concurrency/index.ts')]))
        .to.deep.equal([])
      expect(checkEdges([edge('server/services/etcd/lock.ts', '../../../client/client.js', 'client/client.ts')])).to.have.length(1)
      expect(checkEdges([edge('server/services/kv.ts', '../../client/concurrency/index.js', 'client/concurrency/index.ts')]))
        .to.have.length(1)
    })

    it('finds a cycle', () => {
      const cycles = findCycles([
        edge('a/x.ts', './y.js', 'a/y.ts'),
        edge('a/y.ts', './z.js', 'a/z.ts'),
        edge('a/z.ts', './x.js', 'a/x.ts'),
      ])
      expect(cycles).to.deep.equal([['a/x.ts', 'a/y.ts', 'a/z.ts', 'a/x.ts']])
    })
  })
})
