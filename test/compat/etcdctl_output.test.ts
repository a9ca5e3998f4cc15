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
import {readdirSync, readFileSync} from 'node:fs'
import {parseDataDriven, runDataDriven, type TestData} from '../harness/datadriven.js'
import {call, etcdClients} from './etcd_grpc.js'
import {etcdctl, requireEtcd, startEtcd, stopAllEtcd} from './etcd_harness.js'
import {EtcdctlText} from './etcdctl_text.js'

const DIR = fileURLToPath(new URL('fixtures/etcdctl', import.meta.url))

/** The etcdctl arguments of a case and its line limit ("lines=N" as first argument). */
function argvOf(td: TestData): {args: string[], lines?: number} {
  const args = td.args.map((a) => a.vals.length === 0 ? a.key : `${a.key}=${a.vals.join(',')}`)
  const first = td.args[0]
  if (first?.key === 'lines') return {args: args.slice(1), lines: Number(first.vals[0])}
  return {args}
}

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
  const outputs = new Map<string, string>()
  try {
    await learn()
    for (const {td} of parseDataDriven(readFileSync(path, 'utf8'), path).cases) {
      if (td.cmd !== 'etcdctl') throw new Error(`${td.pos}: unknown command "${td.cmd}" (only etcdctl)`)
      const {args, lines} = argvOf(td)
      // Blank lines close each of txn's three sections (compares, success, failure); extra ones are not read.
      const input = td.input === '' ? undefined : `${td.input}\n\n\n`
      const r = await etcdctl(etcd.endpoints(), args.map((a) => text.resolve(a)), {input, stopAfterLines: lines})
      if (r.timedOut) throw new Error(`${td.pos}: etcdctl ${args.join(' ')} did not finish in time: ${r.stdout}${r.stderr}`)
      await learn()
      const stdout = lines === undefined ? r.stdout : r.stdout.split('\n').slice(0, lines).map((l) => `${l}\n`).join('')
      const err = text.stderr(r.stderr).split('\n').filter((l) => l !== '').map((l) => `stderr: ${l}\n`).join('')
      const exit = r.code !== 0 && lines === undefined ? `exit: ${r.code}\n` : ''
      const normalized = args.includes('member') ? text.sortMembers(text.stdout(stdout)) : text.stdout(stdout)
      outputs.set(td.pos, normalized + err + exit)
    }
  } finally {
    c.close()
    await etcd.stop()
  }
  return outputs
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
