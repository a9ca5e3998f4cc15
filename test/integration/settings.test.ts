/**
 * `raftctl server start` settings end to end: values from a --config YAML file, the environment
 * (RAFTCTL_*) and flags, with flag > env > file > default, observed through what the running node
 * does (its name, its learner limit, its snapshot interval, its addresses); text log lines with
 * structured fields; a clean stop on SIGINT.
 */
import {expect} from 'chai'
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {ClientError, RaftctlClient} from '../../src/client/index.js'
import {ensureBuilt, freePorts, NodeProc, sleep, stopAll, tempDir, waitFor} from './harness.js'

describe('integration: server start settings', function () {
  this.timeout(60_000)
  let node: NodeProc
  let client: RaftctlClient

  before(async function () {
    this.timeout(240_000)
    ensureBuilt()
    const dir = tempDir()
    const [clientPort, peerPort] = await freePorts(2)
    const file = join(dir, 'raftctl.yaml')
    writeFileSync(file, [
      `data_dir: ${join(dir, 'data')}`,
      `listen-client: 127.0.0.1:${clientPort}`,
      `listen-peer: 127.0.0.1:${peerPort}`,
      'name: from-file',
      'tick-ms: 30',
      'snapshot-count: 5',
      'snapshot-catch-up-entries: 0',
      'max-learners: 3',
      'log-format: text',
      '',
    ].join('\n'))
    node = new NodeProc({id: 1, clientPort, peerPort, dataDir: join(dir, 'data')},
      ['--config', file, '--max-learners', '2'],
      {RAFTCTL_NAME: 'from-env', RAFTCTL_MAX_LEARNERS: '5'}, dir)
    node.start()
    client = new RaftctlClient({endpoints: [node.client], timeoutMs: 5000})
    await waitFor('the node to lead and publish its name', async () => (await client.memberList()).members[0]?.member?.name === 'from-env')
  })

  after(async () => {
    client?.close()
    await stopAll()
  })

  it('takes the environment over the config file', async () => {
    const st = await client.status()
    expect(st.name).to.equal('from-env')
    expect(st.leader).to.equal(1)
  })

  it('takes a flag over the environment and the file (--max-learners 2)', async () => {
    const ports = await freePorts(3)
    await client.memberAdd({id: 2, peerUrls: [`127.0.0.1:${ports[0]}`], isLearner: true})
    await client.memberAdd({id: 3, peerUrls: [`127.0.0.1:${ports[1]}`], isLearner: true})
    let err: unknown
    await client.memberAdd({id: 4, peerUrls: [`127.0.0.1:${ports[2]}`], isLearner: true}).catch((e) => { err = e })
    expect(err).to.be.instanceOf(ClientError)
    expect((err as ClientError).message).to.match(/already has 2 learner\(s\) and --max-learners is 2/)
  })

  it('takes a setting found only in the file (--snapshot-count 5): snapshots and compacts every 5 entries', async () => {
    const before = await client.status()
    for (let i = 0; i < 12; i++) await client.put(`k${i}`, 'v')
    // The log is compacted right after each snapshot (with no trailing entries kept here).
    const st = await waitFor('a snapshot past the writes, and the log compacted up to it', async () => {
      const s = await client.status()
      return s.snapshotIndex >= before.raftAppliedIndex + 5 && s.raftFirstIndex === s.snapshotIndex + 1 &&
        s.raftAppliedIndex - s.snapshotIndex < 5 ? s : undefined
    })
    expect(st.raftLastIndex).to.be.at.least(before.raftAppliedIndex + 12)
    const starting = node.lines('starting')
    expect(starting).to.have.length(1)
    expect(starting[0]).to.match(/"snapshotCount":5/).and.to.match(/"maxLearners":2/).and.to.match(/"tickMs":30/)
  })

  it('writes one text line per event with structured fields, and stops cleanly on SIGINT', async () => {
    const leader = node.lines('became-leader')
    expect(leader).to.have.length(1)
    expect(leader[0]).to.match(/^\[[\d:.]+\] INFO: became leader \{.*"node":1.*"term":\d+/)
    expect(node.lines('conf-change-applied').length).to.be.at.least(2)
    expect(node.lines('snapshot-created').length).to.be.at.least(1)
    expect(await node.stop('SIGINT')).to.equal(0)
    expect(node.lines('stopped')).to.have.length(1)
  })

  it('stops at once with exit 0 on SIGTERM while waiting to --join an unreachable cluster', async () => {
    const dir = tempDir()
    const [clientPort, peerPort, nobody] = await freePorts(3)
    const joining = new NodeProc({id: 9, clientPort, peerPort, dataDir: join(dir, 'data')}, [
      '--id', '9', '--data-dir', join(dir, 'data'), '--listen-client', `127.0.0.1:${clientPort}`,
      '--listen-peer', `127.0.0.1:${peerPort}`, '--join', `127.0.0.1:${nobody}`, '--log-format', 'json',
    ], {}, dir)
    joining.start()
    await waitFor('the joining node to start', () => joining.lines('starting').length === 1)
    await sleep(300)
    const t0 = Date.now()
    expect(await joining.stop('SIGTERM', 10_000)).to.equal(0)
    expect(Date.now() - t0).to.be.below(3000)
    expect(joining.events('stopped')[0]?.reason).to.match(/stopped while joining the cluster at 127\.0\.0\.1:\d+/)
    expect(existsSync(join(dir, 'data', 'db')), 'no data dir was created').to.equal(false)
  })
})
