import {status} from '@grpc/grpc-js'
import {expect} from 'chai'
import {Etcd3, type IKeyValue} from 'etcd3'
import {WatchCreateRequest_FilterType, WatchResponse} from '../../src/generated/etcd/etcdserverpb/watch.js'
import {Event, Event_EventType} from '../../src/generated/etcd/mvccpb/kv.js'
import {NodeError} from '../../src/server/errors.js'
import {fragments, REASON_DUPLICATE_ID, REASON_EMPTY_RANGE, watchService} from '../../src/server/services/etcd/watch.js'
import {sleep, waitFor} from '../integration/harness.js'
import {cancelReq, createReq, progressReq, summarize, TEST_HEADER, WatchProbe, WatchTestServer} from './etcd_watch_helpers.js'

describe('server/services/etcd/watch', () => {
  let server: WatchTestServer
  const probes: WatchProbe[] = []
  const probe = (md: Record<string, string> = {}): WatchProbe => {
    const p = new WatchProbe(server.endpoint, md)
    probes.push(p)
    return p
  }
  afterEach(() => {
    for (const p of probes.splice(0)) p.close()
    server?.close()
  })

  describe('create, events, cancel', () => {
    beforeEach(async () => { server = await WatchTestServer.start() })

    it('answers a create with created and the current revision, then streams each revision with its header', async () => {
      server.src.put('k', 'a')
      const p = probe()
      p.send(createReq('k'), createReq('a', {rangeEnd: 'z', prevKv: true}))
      await p.count(2)
      server.src.put('k', 'b')
      server.src.txn([{put: 'b', value: '1'}, {put: 'c', value: '1'}])
      await p.count(5)
      expect(p.responses.map(summarize)).to.deep.equal([
        '0 created rev=2',
        '1 created rev=2',
        '0 rev=3 PUT k@3',
        '1 rev=3 PUT k@3<2',
        '1 rev=4 PUT b@4, PUT c@4',
      ])
      expect(p.responses[0].header).to.deep.equal({...TEST_HEADER, revision: 2})
    })

    it('uses client-chosen ids, refuses a duplicate with etcd\'s reason, and counts server ids up from 0 around them', async () => {
      const p = probe()
      p.send(createReq('a', {watchId: 5n}), createReq('a', {watchId: 5n}), createReq('a'), createReq('a', {watchId: 1n}), createReq('b'), createReq('c'))
      await p.count(6)
      expect(p.responses.map(summarize)).to.deep.equal([
        '5 created rev=1',
        `-1 created,canceled rev=1 reason=${REASON_DUPLICATE_ID}`,
        '0 created rev=1',
        '1 created rev=1',
        '2 created rev=1',
        '3 created rev=1',
      ])
    })

    it('answers a cancel once and an unknown cancel not at all; a progress request with -1 and the revision', async () => {
      server.src.put('x', '1')
      const p = probe()
      p.send(createReq('a'), cancelReq(7n), progressReq(), cancelReq(0n), cancelReq(0n), progressReq())
      await p.count(4)
      server.src.put('a', 'after cancel')
      await sleep(100)
      expect(p.responses.map(summarize)).to.deep.equal(['0 created rev=2', '-1 rev=2', '0 canceled rev=2', '-1 rev=2'])
      expect(server.hub.stats()).to.deep.equal({synced: 0, unsynced: 0, victims: 0})
    })

    it('refuses an empty range with etcd\'s reason and reads an empty key as "\\0"', async () => {
      const p = probe()
      p.send(createReq('b', {rangeEnd: 'a'}), createReq(''), createReq('', {rangeEnd: '\0'}))
      await p.count(3)
      server.src.put('\0', 'zero')
      server.src.put('k', 'v')
      await p.count(6)
      expect(p.responses.map(summarize)).to.deep.equal([
        `-1 created,canceled rev=1 reason=${REASON_EMPTY_RANGE}`,
        '0 created rev=1',
        '1 created rev=1',
        '0 rev=2 PUT \0@2',
        '1 rev=2 PUT \0@2',
        '1 rev=3 PUT k@3',
      ])
    })

    it('applies NOPUT and NODELETE and starts in the past, in the future, or answers compacted', async () => {
      for (let i = 0; i < 6; i++) server.src.put(`k${i % 2}`, String(i))
      server.src.compact(4)
      const p = probe()
      p.send(
        createReq('k', {rangeEnd: 'l', startRevision: 4}),
        createReq('k', {rangeEnd: 'l', startRevision: 3}),
        createReq('k0', {startRevision: 9, filters: [WatchCreateRequest_FilterType.NOPUT]}),
        createReq('k1', {filters: [WatchCreateRequest_FilterType.NODELETE]}),
      )
      await p.count(6)
      server.src.del('k0')
      server.src.put('k1', 'x')
      server.src.del('k0')
      server.src.put('k0', 'y')
      server.src.del('k0')
      server.src.del('k1')
      await p.until('the last revision', (rs) => rs.some((r) => r.watchId === 0n && r.header!.revision === 12))
      await sleep(50)
      const byId = (id: bigint): string[] => p.responses.filter((r) => r.watchId === id).map(summarize)
      expect(byId(0n)).to.deep.equal(['0 created rev=7', '0 rev=7 PUT k0@4, PUT k1@5, PUT k0@6, PUT k1@7',
        '0 rev=8 DEL k0@8', '0 rev=9 PUT k1@9', '0 rev=10 PUT k0@10', '0 rev=11 DEL k0@11', '0 rev=12 DEL k1@12'])
      expect(byId(1n)).to.deep.equal(['1 created rev=7', '1 canceled rev=0 compact=4'])
      expect(byId(2n)).to.deep.equal(['2 created rev=7', '2 rev=11 DEL k0@11'])
      expect(byId(3n)).to.deep.equal(['3 created rev=7', '3 rev=9 PUT k1@9'])
    })

    it('keeps serving a client that half-closed, and forgets every watch when the client cancels the stream', async () => {
      const p = probe()
      p.send(createReq('k'), createReq('j', {startRevision: 1}))
      await p.count(2)
      p.stream.end()
      server.src.put('k', 'v')
      await p.count(3)
      expect(summarize(p.responses[2])).to.equal('0 rev=2 PUT k@2')
      p.stream.cancel()
      await waitFor('the hub to drop the watches', () => server.hub.stats().synced === 0, {intervalMs: 5})
      expect(server.hub.stats()).to.deep.equal({synced: 0, unsynced: 0, victims: 0})
    })
  })

  describe('progress_notify', () => {
    beforeEach(async () => { server = await WatchTestServer.start({progressIntervalMs: 100}) })

    it('sends an idle synced watch an empty answer with the current revision each interval, not a busy one', async () => {
      server.src.put('x', '1')
      const p = probe()
      p.send(createReq('idle', {progressNotify: true}), createReq('busy', {progressNotify: true}), createReq('quiet'))
      await p.count(3)
      // Keep "busy" busy for a while; "idle" gets progress answers meanwhile.
      for (let i = 0; i < 12; i++) {
        server.src.put('busy', String(i))
        await sleep(20)
      }
      await p.until('two progress answers for the idle watch', (rs) => rs.filter((r) => r.watchId === 0n).length >= 3)
      const idle = p.responses.filter((r) => r.watchId === 0n).slice(1)
      for (const r of idle) expect(r.events).to.deep.equal([])
      expect(idle[0].header!.revision).to.be.at.least(2)
      const busy = p.responses.filter((r) => r.watchId === 1n).slice(1)
      expect(busy.slice(0, 12).every((r) => r.events.length === 1)).to.equal(true)
      expect(p.responses.some((r) => r.watchId === 2n && !r.created)).to.equal(false)
    })
  })

  describe('fragment', () => {
    beforeEach(async () => { server = await WatchTestServer.start({maxRequestBytes: 2000}) })

    it('splits an answer above max request bytes + 512 KiB for a watch that asked, whole events per part', async () => {
      for (let i = 0; i < 400; i++) server.src.put(`f${String(i).padStart(3, '0')}`, 'x'.repeat(1900))
      const p = probe()
      p.send(createReq('f', {rangeEnd: 'g', startRevision: 1, fragment: true}), createReq('f', {rangeEnd: 'g', startRevision: 1}))
      await p.until('both catch-ups', (rs) => rs.filter((r) => !r.created && r.watchId === 1n).length === 1 &&
        rs.filter((r) => !r.created && r.watchId === 0n && !r.fragment).length === 1)
      const parts = p.responses.filter((r) => r.watchId === 0n && !r.created)
      const whole = p.responses.filter((r) => r.watchId === 1n && !r.created)
      const limit = 2000 + 512 * 1024
      expect(parts.length).to.be.greaterThan(1)
      expect(parts.map((r) => r.fragment)).to.deep.equal([...Array(parts.length - 1).fill(true), false])
      for (const r of parts) expect(WatchResponse.encode(r).finish().length).to.be.below(limit)
      expect(WatchResponse.encode(whole[0]).finish().length).to.be.above(limit)
      expect(parts.flatMap((r) => r.events.map((e) => e.kv!.modRevision))).to.deep.equal(whole[0].events.map((e) => e.kv!.modRevision))
      expect(parts.every((r) => r.header!.revision === 401)).to.equal(true)
    })

    it('fragments() takes events while the part stays below the limit, at least one each, as etcd', () => {
      const ev = (n: number): Event => ({type: Event_EventType.PUT, kv: {key: new Uint8Array([n]), value: new Uint8Array(100), createRevision: 1, modRevision: 1, version: 1, lease: 0n}, prevKv: undefined})
      const base: WatchResponse = {header: {...TEST_HEADER, revision: 1}, watchId: 0n, created: false, canceled: false, compactRevision: 0, cancelReason: '', fragment: false, events: []}
      const one = Event.encode(ev(1)).finish().length + 2
      const empty = WatchResponse.encode({...base, fragment: true}).finish().length
      const res = {...base, events: [1, 2, 3, 4, 5].map(ev)}
      // Room for exactly two events below the limit.
      const parts = [...fragments(res, empty + 2 * one + 1)]
      expect(parts.map((r) => r.events.length)).to.deep.equal([2, 2, 1])
      expect(parts.map((r) => r.fragment)).to.deep.equal([true, true, false])
      // A limit smaller than one event still moves one event per part; a small answer is unchanged.
      expect([...fragments(res, 10)].map((r) => r.events.length)).to.deep.equal([1, 1, 1, 1, 1])
      expect([...fragments(res, 1 << 20)]).to.deep.equal([res])
      expect([...fragments({...base, events: [ev(1)]}, 10)]).to.deep.equal([{...base, events: [ev(1)]}])
    })
  })

  describe('a slow client', () => {
    beforeEach(async () => { server = await WatchTestServer.start({}, {maxPendingBytes: 64 * 1024}) })

    it('does not make the server buffer without bound and still gets every event once, in order', async function () {
      this.timeout(60_000)
      const p = probe()
      p.send(createReq('k', {rangeEnd: 'l'}))
      await p.count(1)
      p.stream.pause()
      // Ten writes per turn stay well inside the watcher's bound, so the watcher can only fill
      // up (and be set aside) when the service stops taking from it because gRPC is full.
      const value = 'v'.repeat(4000)
      const writes = 10_000
      let sawVictim = false
      for (let i = 0; i < writes && !sawVictim; i++) {
        server.src.put(`k${i % 10}`, value)
        if (i % 10 === 9) await new Promise((r) => setImmediate(r))
        sawVictim = server.hub.stats().victims === 1
      }
      expect(sawVictim, 'the watcher was set aside while the client did not read').to.equal(true)
      const last = server.src.revision
      p.stream.resume()
      await p.until('every revision', (rs) => rs.at(-1)?.header?.revision === last, 30_000)
      const revs = p.responses.flatMap((r) => r.events.map((e) => e.kv!.modRevision))
      expect(revs).to.deep.equal(Array.from({length: last - 1}, (_, i) => i + 2))
    })
  })

  describe('through the etcd3 npm client', () => {
    beforeEach(async () => { server = await WatchTestServer.start() })

    it('watches a prefix from a past revision with prev_kv, follows live changes, and cancels', async () => {
      const client = new Etcd3({hosts: `http://${server.endpoint}`})
      try {
        server.src.put('app/a', '1')
        server.src.put('other', '1')
        server.src.put('app/b', '1')
        const seen: string[] = []
        const note = (kind: string) => (kv: IKeyValue, prev?: IKeyValue | null): void => {
          seen.push(`${kind} ${kv.key.toString()}@${kv.mod_revision}${prev == null ? '' : ` prev=${prev.value.toString()}`}`)
        }
        const w = await client.watch().prefix('app/').startRevision('2').withPreviousKV().create()
        w.on('put', note('put')).on('delete', note('delete'))
        await waitFor('the replay', () => seen.length === 2, {intervalMs: 5})
        server.src.put('app/a', '2')
        server.src.del('app/', 'app0')
        await waitFor('the live events', () => seen.length === 5, {intervalMs: 5})
        expect(seen).to.deep.equal(['put app/a@2', 'put app/b@4', 'put app/a@5 prev=1', 'delete app/a@6 prev=2', 'delete app/b@6 prev=1'])
        await w.cancel()
        await waitFor('the hub to drop the watch', () => server.hub.stats().synced === 0, {intervalMs: 5})
      } finally {
        client.close()
      }
    })

    it('reports a watch from a compacted revision as canceled by the server', async () => {
      const client = new Etcd3({hosts: `http://${server.endpoint}`})
      try {
        for (let i = 0; i < 4; i++) server.src.put('k', String(i))
        server.src.compact(4)
        const w = await client.watch().key('k').startRevision('2').create()
        const err = await new Promise<Error>((resolve) => w.on('error', resolve))
        expect(err.message).to.match(/Watcher canceled/)
      } finally {
        client.close()
      }
    })
  })

  describe('stream errors', () => {
    it('refuses the stream when checkStream throws, with that error\'s status', async () => {
      server = await WatchTestServer.start({checkStream: (call) => {
        if (call.metadata.get('hasleader')[0] === 'true') throw new NodeError(status.UNAVAILABLE, 'etcdserver: no leader')
      }})
      const p = probe({hasleader: 'true'})
      p.send(createReq('k'))
      await p.closed()
      expect(p.error).to.deep.equal({code: 'UNAVAILABLE', details: 'etcdserver: no leader'})
      const ok = probe()
      ok.send(createReq('k'))
      await ok.count(1)
      expect(ok.error).to.equal(undefined)
    })

    it('ends an open stream when its monitor check throws, with that error\'s status, and only that stream', async () => {
      let leaderless = false
      server = await WatchTestServer.start({monitorStream: {intervalMs: 10, check: (call) => {
        if (leaderless && call.metadata.get('hasleader')[0] === 'true') throw new NodeError(status.UNAVAILABLE, 'etcdserver: no leader')
      }}})
      const p = probe({hasleader: 'true'})
      const other = probe()
      p.send(createReq('k'))
      other.send(createReq('k'))
      await p.count(1)
      await other.count(1)
      await new Promise((r) => setTimeout(r, 50))
      expect(p.error, 'the check passes while there is a leader').to.equal(undefined)
      leaderless = true
      await p.closed()
      expect(p.error).to.deep.equal({code: 'UNAVAILABLE', details: 'etcdserver: no leader'})
      await waitFor('the hub to drop its watch', () => server.hub.stats().synced === 1, {intervalMs: 5})
      server.src.put('k', 'v')
      await other.count(2)
      expect(other.error).to.equal(undefined)
      expect(() => watchService({hub: server.hub, header: () => ({...TEST_HEADER, revision: 0}), monitorStream: {intervalMs: 0, check: () => {}}}))
        .to.throw(/monitorStream.intervalMs must be a positive integer, got 0/)
    })

    it('ends every stream with UNAVAILABLE "etcdserver: server stopped" when the hub closes', async () => {
      server = await WatchTestServer.start()
      const p = probe()
      p.send(createReq('k'))
      await p.count(1)
      server.hub.close()
      await p.closed()
      expect(p.error).to.deep.equal({code: 'UNAVAILABLE', details: 'etcdserver: server stopped'})
      const late = probe()
      late.send(createReq('k'))
      await late.closed()
      expect(late.error).to.deep.equal({code: 'UNAVAILABLE', details: 'etcdserver: server stopped'})
    })
  })
})
