// Config validation (etcd-io/raft Config.validate) and defaults.
import {readFileSync} from 'node:fs'
import {expect} from 'chai'
import {type Config, CONFIG_DEFAULTS, seededRandom, validateConfig} from '../../../src/raft/config.js'
import {ConfigInvalidError} from '../../../src/raft/errors.js'
import {MemoryStorage} from '../../../src/raft/memory_storage.js'
import {RawNode} from '../../../src/raft/raw_node.js'

describe('Config', () => {
  it('fills in the documented defaults', () => {
    const c = validateConfig({id: 1})
    expect(c).to.include(CONFIG_DEFAULTS)
    expect(c.electionTick).to.equal(10)
    expect(c.heartbeatTick).to.equal(1)
    expect(c.readOnlyOption).to.equal('safe')
    expect(c.maxCommittedSizePerReady).to.equal(1024 * 1024)
    expect(c.random).to.be.a('function')
  })

  it('keeps given values and ignores undefined ones', () => {
    const c = validateConfig({id: 7, electionTick: 20, heartbeatTick: undefined, preVote: true})
    expect([c.id, c.electionTick, c.heartbeatTick, c.preVote]).to.deep.equal([7, 20, 1, true])
  })

  const bad: Array<[string, Partial<Config>, RegExp]> = [
    ['id 0', {id: 0}, /config\.id/],
    ['negative id', {id: -1}, /config\.id/],
    ['fractional id', {id: 1.5}, /config\.id/],
    ['id above 2^53', {id: 2 ** 53}, /config\.id/],
    ['heartbeatTick 0', {heartbeatTick: 0}, /config\.heartbeatTick/],
    ['electionTick == heartbeatTick', {electionTick: 2, heartbeatTick: 2}, /config\.electionTick/],
    ['electionTick < heartbeatTick', {electionTick: 2, heartbeatTick: 3}, /config\.electionTick/],
    ['maxInflightMsgs 0', {maxInflightMsgs: 0}, /config\.maxInflightMsgs/],
    ['maxInflightBytes < maxSizePerMsg', {maxInflightBytes: 10, maxSizePerMsg: 11}, /config\.maxInflightBytes/],
    ['lease without checkQuorum', {readOnlyOption: 'lease'}, /config\.checkQuorum/],
    ['unknown readOnlyOption', {readOnlyOption: 'fast' as never}, /config\.readOnlyOption/],
    ['negative applied', {applied: -1}, /config\.applied/],
    ['NaN maxSizePerMsg', {maxSizePerMsg: Number.NaN}, /config\.maxSizePerMsg/],
    ['Infinity maxUncommittedSize', {maxUncommittedSize: Infinity}, /config\.maxUncommittedSize/],
    ['non-boolean preVote', {preVote: 1 as never}, /config\.preVote/],
    ['non-function random', {random: 3 as never}, /config\.random/],
    ['electionTick 0', {electionTick: 0}, /config\.electionTick/],
    ['fractional electionTick', {electionTick: 10.5}, /config\.electionTick/],
    ['string heartbeatTick', {heartbeatTick: '1' as never}, /config\.heartbeatTick/],
    ['negative maxSizePerMsg', {maxSizePerMsg: -1}, /config\.maxSizePerMsg/],
    ['negative maxInflightBytes', {maxInflightBytes: -1}, /config\.maxInflightBytes/],
    ['fractional maxInflightMsgs', {maxInflightMsgs: 2.5}, /config\.maxInflightMsgs/],
    ['negative maxUncommittedSize', {maxUncommittedSize: -5}, /config\.maxUncommittedSize/],
    ['negative maxCommittedSizePerReady', {maxCommittedSizePerReady: -1}, /config\.maxCommittedSizePerReady/],
    ['fractional maxCommittedSizePerReady', {maxCommittedSizePerReady: 1.5}, /config\.maxCommittedSizePerReady/],
    ['Infinity maxCommittedSizePerReady', {maxCommittedSizePerReady: Infinity}, /config\.maxCommittedSizePerReady/],
    ['fractional applied', {applied: 0.5}, /config\.applied/],
    ['non-boolean checkQuorum', {checkQuorum: 'yes' as never}, /config\.checkQuorum/],
    ['non-boolean stepDownOnRemoval', {stepDownOnRemoval: 0 as never}, /config\.stepDownOnRemoval/],
    ['a misspelt field', {electionTicks: 5} as never, /config\.electionTicks is not a Config field/],
  ]
  for (const [what, fields, re] of bad) {
    it(`refuses ${what} with ConfigInvalidError naming the field`, () => {
      expect(() => validateConfig({id: 1, ...fields} as Config)).to.throw(ConfigInvalidError, re)
    })
  }

  it('refuses a config that is not an object', () => {
    expect(() => validateConfig(null as never)).to.throw(ConfigInvalidError, /config must be an object/)
  })

  it('every field has a default except id and random, and every default is valid', () => {
    expect(Object.keys(CONFIG_DEFAULTS).sort()).to.deep.equal([
      'applied', 'checkQuorum', 'electionTick', 'heartbeatTick', 'maxCommittedSizePerReady', 'maxInflightBytes',
      'maxInflightMsgs', 'maxSizePerMsg', 'maxUncommittedSize', 'preVote', 'readOnlyOption', 'stepDownOnRemoval',
    ])
    expect(() => validateConfig({id: 1, ...CONFIG_DEFAULTS})).to.not.throw()
  })

  it('a random function that returns a value outside [0, n) is refused when the node is built', () => {
    const s = MemoryStorage.withConfState({voters: [1]})
    for (const bad of [-1, 10, 2.5, Number.NaN]) {
      expect(() => new RawNode({id: 1, electionTick: 10, random: () => bad}, s), `random() = ${bad}`)
        .to.throw(ConfigInvalidError, /config\.random\(10\) returned/)
    }
    expect(() => new RawNode({id: 1, electionTick: 10, random: (n) => n - 1}, s)).to.not.throw()
  })

  it('documents every Config field with its meaning and default (issue 3)', () => {
    const src = readFileSync(new URL('../../../src/raft/config.ts', import.meta.url), 'utf8')
    const body = /export interface Config \{([\s\S]*?)\n\}/.exec(src)?.[1] ?? ''
    const docs = new Map<string, string>()
    for (const m of body.matchAll(/\/\*\*([\s\S]*?)\*\/\s*readonly (\w+)\??:/g)) docs.set(m[2], m[1])
    expect([...docs.keys()].sort()).to.deep.equal(['id', 'random', ...Object.keys(CONFIG_DEFAULTS)].sort())
    for (const [field, doc] of docs) {
      expect(doc, field).to.match(/\b(Default|No default)\b/)
      // A meaning, a default and a trade-off do not fit in less than a few lines.
      expect(doc.split('\n').length, field).to.be.at.least(4)
    }
  })

  it('accepts lease reads with checkQuorum and maxInflightBytes >= maxSizePerMsg', () => {
    expect(() => validateConfig({id: 1, readOnlyOption: 'lease', checkQuorum: true})).to.not.throw()
    expect(() => validateConfig({id: 1, maxInflightBytes: 2048, maxSizePerMsg: 1024})).to.not.throw()
  })

  it('the default random is deterministic per id and stays in [0, n)', () => {
    const a = seededRandom(1)
    const b = seededRandom(1)
    const seqA = Array.from({length: 50}, () => a(10))
    expect(seqA).to.deep.equal(Array.from({length: 50}, () => b(10)))
    expect(seqA.every((x) => Number.isInteger(x) && x >= 0 && x < 10)).to.equal(true)
    expect(new Set(seqA).size).to.be.greaterThan(3)
  })
})
