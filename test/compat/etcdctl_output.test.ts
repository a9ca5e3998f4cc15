/**
 * How etcdctl 3.4 prints each command in each output format, recorded from a real etcd 3.4 as
 * golden files (test/compat/fixtures/etcdctl/*.txt, datadriven format). Each file runs against a
 * fresh single-member etcd; a case is one etcdctl command line, its input lines are etcdctl's
 * stdin (txn: compares, a blank line, success ops, a blank line, failure ops), `etcdctl lines=N ...` stops a streaming command (watch) once it printed N lines and keeps those, and
 * "<ID:name>" in an argument stands for that member's id. The
 * recorded output is stdout, then "stderr: " lines, then "exit: N" when not 0, normalized by
 * EtcdctlText. REWRITE=1 records the files again from etcd.
 */
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {readdirSync} from 'node:fs'
import {runDataDriven} from '../harness/datadriven.js'
import {call, etcdClients} from './etcd_grpc.js'
import {requireEtcd, startEtcd, stopAllEtcd} from './etcd_harness.js'
import {runCases} from './etcdctl_cases.js'
import {EtcdctlText} from './etcdctl_text.js'

const DIR = fileURLToPath(new URL('fixtures/etcdctl', import.meta.url))

/** Runs every case of a golden file against a fresh etcd; returns the normalized output by case position. */
async function record(path: string): Promise<Map<string, string>> {
  const etcd = await startEtcd()
  const c = etcdClients(etcd.endpoints()[0])
  const text = new EtcdctlText()
  const learn = async (): Promise<void> => {
    const list = await call(c.cluster, c.cluster.memberList, {linearizable: false})
    const status = await call(c.maintenance, c.maintenance.status, {})
    text.learn(list.header!.clusterId, status.version, list.members)
  }
  try {
    return await runCases(path, etcd.endpoints(), text, learn)
  } finally {
    c.close()
    await etcd.stop()
  }
}

describe('compat: etcdctl 3.4 output formats, recorded from etcd', function () {
  this.timeout(120_000)
  before(function () { requireEtcd(this) })
  after(stopAllEtcd)

  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.txt')).sort()) {
    it(file, async () => {
      const path = join(DIR, file)
      const outputs = await record(path)
      runDataDriven(path, (td) => outputs.get(td.pos)!)
    })
  }
})
