import {expect} from 'chai'
import fc from 'fast-check'
import {ANY_OTHER, check, checkRegister, minimise, step} from './checker.js'
import {type HistoryOp, parseHistory} from './history.js'

/** Builds ops tersely; times are in ms, stored as ns. `ret` null = unknown outcome. */
const ms = (t: number | null): number | null => (t === null ? null : t * 1_000_000)
const put = (key: string, value: string, call: number, ret: number | null, clientId = 0): HistoryOp =>
  ({clientId, op: 'put', key, value, expected: null, output: null, call: ms(call)!, return: ms(ret)})
const get = (key: string, output: string | null, call: number, ret: number | null, clientId = 1): HistoryOp =>
  ({clientId, op: 'get', key, value: null, expected: null, output, call: ms(call)!, return: ms(ret)})
const del = (key: string, output: boolean | null, call: number, ret: number | null, clientId = 2): HistoryOp =>
  ({clientId, op: 'delete', key, value: null, expected: null, output, call: ms(call)!, return: ms(ret)})
const cas = (key: string, expected: string | null, value: string, output: boolean | null, call: number, ret: number | null, clientId = 3): HistoryOp =>
  ({clientId, op: 'cas', key, value, expected, output, call: ms(call)!, return: ms(ret)})

const verdict = (h: HistoryOp[]): string => check(h, {timeoutMs: 10_000}).verdict

describe('chaos/checker (linearizability of key/value histories)', () => {
  describe('hand-made histories', () => {
    it('accepts a sequential history that follows the model', () => {
      expect(verdict([put('a', '1', 0, 1), get('a', '1', 2, 3), cas('a', '1', '2', true, 4, 5), del('a', true, 6, 7), get('a', null, 8, 9)]))
        .to.equal('linearizable')
    })

    it('catches a stale read: a get after a newer write completed returns the older value', () => {
      expect(verdict([put('a', '1', 0, 10), put('a', '2', 20, 30), get('a', '1', 40, 50)])).to.equal('not-linearizable')
    })

    it('accepts the same read when the newer write is still in flight (it may not have taken effect yet)', () => {
      expect(verdict([put('a', '1', 0, 10), put('a', '2', 20, 60), get('a', '1', 40, 50)])).to.equal('linearizable')
    })

    it('catches a lost write: an acknowledged put that a later read does not see', () => {
      expect(verdict([put('a', '1', 0, 10), get('a', null, 20, 30)])).to.equal('not-linearizable')
    })

    it('catches a wrong cas: refused although the value matched, or done although it did not', () => {
      expect(verdict([put('a', '1', 0, 10), cas('a', '1', '2', false, 20, 30)])).to.equal('not-linearizable')
      expect(verdict([put('a', '1', 0, 10), cas('a', '9', '2', true, 20, 30)])).to.equal('not-linearizable')
      expect(verdict([cas('a', null, '2', true, 0, 10), get('a', '2', 20, 30)])).to.equal('linearizable')
    })

    it('catches a delete that reports the wrong existence', () => {
      expect(verdict([put('a', '1', 0, 10), del('a', false, 20, 30)])).to.equal('not-linearizable')
      expect(verdict([del('a', true, 0, 10)])).to.equal('not-linearizable')
    })

    it('lets an unknown-outcome write take effect at any time after its call, or never', () => {
      expect(verdict([put('a', '1', 0, null), get('a', '1', 20, 30)])).to.equal('linearizable')
      expect(verdict([put('a', '1', 0, null), get('a', null, 20, 30)])).to.equal('linearizable')
      expect(verdict([put('a', '1', 0, null), get('a', null, 20, 30), get('a', '1', 40, 50)])).to.equal('linearizable')
      expect(verdict([cas('a', null, '1', null, 0, null), get('a', '1', 500, 600)])).to.equal('linearizable')
    })

    it('does not let an unknown write take effect before it was called, or be undone', () => {
      expect(verdict([get('a', '1', 0, 10), put('a', '1', 20, null)])).to.equal('not-linearizable')
      expect(verdict([put('a', '1', 0, null), get('a', '1', 20, 30), get('a', null, 40, 50)])).to.equal('not-linearizable')
    })

    it('ignores ops that provably did not happen, so their value cannot be read', () => {
      const refused: HistoryOp = {...put('a', '1', 0, 10), error: 'INVALID_ARGUMENT'}
      expect(verdict([refused, get('a', null, 20, 30)])).to.equal('linearizable')
      expect(verdict([refused, get('a', '1', 20, 30)])).to.equal('not-linearizable')
    })

    it('checks each key on its own and names the key that fails', () => {
      const r = check([put('a', '1', 0, 10), put('b', '1', 0, 10), get('b', null, 20, 30), get('a', '1', 20, 30)])
      expect(r.verdict).to.equal('not-linearizable')
      expect(r.keys.map((k) => [k.key, k.verdict])).to.deep.equal([['a', 'linearizable'], ['b', 'not-linearizable']])
    })

    it('answers unknown instead of exhausting memory when the state bound is reached', () => {
      // Many concurrent unknown writes and no read to pin them: a large state space.
      const h = Array.from({length: 40}, (_, i) => put('a', `v${i}`, i, null, i))
      h.push(get('a', 'nothing-wrote-this', 100, 110))
      expect(checkRegister(h, Date.now() + 10_000, 1000)).to.deep.equal({verdict: 'unknown', reason: 'more than 1000 states explored'})
    })

    it('minimises a failing history: the shortest failing prefix and suffix, only the reads that matter', () => {
      const h: HistoryOp[] = []
      for (let i = 0; i < 40; i++) h.push(put('a', `v${i}`, i * 10, i * 10 + 5), get('a', `v${i}`, i * 10 + 6, i * 10 + 8))
      h.push(get('a', 'v3', 500, 510)) // stale: v39 was written last
      h.push(put('a', 'late', 600, 610), get('a', 'late', 620, 630)) // after the failure: cut off
      const {history, core} = minimise(h)
      expect(check(history).verdict).to.equal('not-linearizable')
      expect(history.filter((o) => o.op === 'get').map((o) => o.output)).to.deep.equal(['v39', 'v3'])
      expect(history.every((o) => o.call <= ms(500)!)).to.equal(true)
      // Read v39, then v3 with nothing written in between: whatever the key held before, that fails.
      expect(core.map((o) => `${o.op} ${o.value ?? o.output}`)).to.deep.equal(['get v39', 'get v3'])
    })

    it('shrinks a short history to exactly the ops that cannot be ordered', () => {
      const h = [put('a', '1', 0, 10), get('a', '1', 11, 12), put('a', '2', 20, 30), put('a', '3', 31, 35), get('a', '3', 36, 38), get('a', '1', 40, 50)]
      const small = minimise(h)
      expect(small.core.map((o) => `${o.op} ${o.value ?? o.output}`)).to.deep.equal(['get 3', 'get 1'])
      expect(small.from).to.equal(ms(35))
      for (const s of small.initial) expect(checkRegister(small.history, Date.now() + 1000, 1000, s).verdict).to.equal('not-linearizable')
    })

    it('shrinks a lost write to the write and the read that misses it', () => {
      const h = [put('a', '0', 0, 5), get('a', '0', 6, 7), put('a', '1', 10, 20), get('a', '1', 21, 22), put('a', '2', 30, 40), get('a', '1', 50, 60)]
      expect(minimise(h).core.map((o) => `${o.op} ${o.value ?? o.output}`)).to.deep.equal(['put 2', 'get 1'])
    })

    it('shrinks only in ways that keep the failure real: what it cuts off may have left any value', () => {
      // Dropping the put and starting from an absent key would leave "delete -> true": a failure the original does not have.
      const small = minimise([put('a', '1', 0, 10), del('a', true, 20, 30), get('a', '1', 40, 50)])
      expect(small.core.map((o) => `${o.op} ${o.output}`)).to.deep.equal(['delete true', 'get 1'])
      expect(small.initial).to.include.members([null, '1', ANY_OTHER])
      for (const s of small.initial) expect(checkRegister(small.history, Date.now() + 1000, 1000, s).verdict).to.equal('not-linearizable')
    })
  })

  describe('history files', () => {
    it('reads what the runner writes and names a bad record', () => {
      expect(parseHistory(JSON.stringify([put('a', '1', 0, null)]))).to.have.length(1)
      expect(() => parseHistory('[{"clientId":0,"op":"inc","key":"a","call":0,"return":1}]', 'h.json'))
        .to.throw('h.json: operation 0: op must be one of put, get, delete, cas')
      expect(() => parseHistory('{}', 'h.json')).to.throw('h.json must be a JSON array of operations')
    })
  })

  describe('properties', () => {
    /** One client's planned op: what it does and how long the phases take. */
    const plannedOp = fc.record({
      kind: fc.constantFrom('put', 'get', 'delete', 'cas'),
      key: fc.constantFrom('a', 'b'),
      pick: fc.nat(20),
      swap: fc.boolean(),
      gap: fc.integer({min: 1, max: 5}),
      toLin: fc.integer({min: 0, max: 10}),
      toRet: fc.integer({min: 0, max: 10}),
      outcome: fc.constantFrom('ok', 'ok', 'ok', 'unknown-applied', 'unknown-lost'),
    })
    const plans = (clients: number) => fc.array(fc.array(plannedOp, {maxLength: 12}), {minLength: 1, maxLength: clients})

    interface Plan {kind: string, key: string, pick: number, swap: boolean, gap: number, toLin: number, toRet: number, outcome: string}

    /**
     * Generates a history from a sequential model: each op takes effect at a linearization
     * point between its call and return; outputs are what the model answers at that point. An
     * unknown op either took effect (at its point) or not at all. A cas compares with the
     * current value (`swap`) or with an earlier value or absence (`pick`).
     */
    function generate(clientPlans: Plan[][], allowUnknown: boolean): HistoryOp[] {
      const n = clientPlans.length
      const planned: Array<{o: HistoryOp, p: Plan, lin: number, applies: boolean}> = []
      clientPlans.forEach((plan, c) => {
        let t = 0
        for (const p of plan) {
          // Distinct times across clients: scaled by the client count, offset by the client id.
          const call = (t + p.gap) * n * 3 + c
          const lin = call + p.toLin * n * 3 + n
          const ret = lin + p.toRet * n * 3 + n
          t = Math.ceil(ret / (n * 3)) + 1
          const outcome = allowUnknown ? p.outcome : 'ok'
          const o: HistoryOp = {clientId: c, op: p.kind as HistoryOp['op'], key: p.key, value: null, expected: null, output: null,
            call, return: outcome === 'ok' ? ret : null}
          planned.push({o, p, lin, applies: outcome !== 'unknown-lost'})
        }
      })
      const state = new Map<string, string | null>()
      const written = new Map<string, Array<string | null>>()
      let v = 0
      const out: HistoryOp[] = []
      for (const {o, p, applies} of planned.sort((a, b) => a.lin - b.lin)) {
        const cur = state.get(o.key) ?? null
        const seen = written.get(o.key) ?? [null]
        let op: HistoryOp = o.op === 'put' || o.op === 'cas' ? {...o, value: `v${v++}`} : o
        if (o.op === 'cas') op = {...op, expected: p.swap ? cur : seen[p.pick % seen.length]}
        if (applies) {
          const next = step(cur, {...op, return: null})[1]
          if (op.op === 'get') op = {...op, output: cur}
          if (op.op === 'delete') op = {...op, output: cur !== null}
          if (op.op === 'cas') op = {...op, output: cur === op.expected}
          state.set(o.key, next)
          if (next !== null && next !== cur) written.set(o.key, [...seen, next])
        }
        out.push(op.return === null ? {...op, output: null} : op)
      }
      return out.sort((a, b) => a.call - b.call)
    }

    it('histories generated from the sequential model are linearizable (with unknown outcomes)', () => {
      fc.assert(fc.property(plans(4), (p) => verdict(generate(p, true)) === 'linearizable'), {numRuns: 300})
    })

    it('a read of a value nobody wrote is caught, however the ops overlap', () => {
      fc.assert(fc.property(plans(4), fc.nat(), (p, which) => {
        const h = generate(p, true)
        const gets = h.map((o, i) => [o, i] as const).filter(([o]) => o.op === 'get' && o.return !== null)
        fc.pre(gets.length > 0)
        const i = gets[which % gets.length][1]
        h[i] = {...h[i], output: 'phantom'}
        return verdict(h) === 'not-linearizable'
      }), {numRuns: 300})
    })

    it('in a history without overlap, any changed read, cas or delete answer is caught', () => {
      fc.assert(fc.property(plans(1), fc.nat(), (p, which) => {
        const h = generate(p, false)
        const known = h.map((o, i) => [o, i] as const).filter(([o]) => o.op !== 'put')
        fc.pre(known.length > 0)
        const [o, i] = known[which % known.length]
        const written = h.filter((x) => x.key === o.key && x.value !== null).map((x) => x.value)
        if (o.op === 'get') {
          const other = [null, ...written].find((x) => x !== o.output)
          fc.pre(other !== undefined)
          h[i] = {...o, output: other!}
        } else {
          h[i] = {...o, output: !(o.output as boolean)}
        }
        return verdict(h) === 'not-linearizable'
      }), {numRuns: 300})
    })
  })
})
