#!/usr/bin/env node
// Regenerates src/generated from proto/ with buf + ts-proto, or with --check verifies that the
// committed output is exactly what the generator produces (exit 1 and a list of stale files if not).
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync, cpSync, existsSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const target = join(root, 'src', 'generated')
const check = process.argv.includes('--check')

/** Options every generated file shares. */
const baseOptions = [
  'esModuleInterop=true',
  'importSuffix=.js',
  'outputServices=grpc-js',
  'useExactTypes=false',
  'outputJsonMethods=false',
  'outputPartialMethods=false',
]

/**
 * One buf run per set of ts-proto options. raftctl's own protos map every 64-bit field to a
 * number (decode throws above 2^53). etcd's protos (proto/etcd) carry random 64-bit ids (member,
 * cluster, lease, watch ids), so there every 64-bit field is a bigint unless the field says
 * `[jstype = JS_NUMBER]` (revisions, counts, sizes, TTLs): an id can never be rounded, and
 * a counter above 2^53 makes decoding throw instead of corrupting it.
 */
const runs = [
  {options: [...baseOptions, 'forceLong=number'], select: ['--exclude-path', join(root, 'proto', 'etcd')]},
  {options: [...baseOptions, 'forceLong=bigint', 'useJsTypeOverride=true'], select: ['--path', join(root, 'proto', 'etcd')]},
]

function template(options) {
  return JSON.stringify({
    version: 'v2',
    plugins: [{local: join(root, 'node_modules', '.bin', 'protoc-gen-ts_proto'), out: '.', opt: options}],
  })
}

function listFiles(dir) {
  if (!existsSync(dir)) return []
  const out = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...listFiles(p))
    else out.push(p)
  }
  return out.sort()
}

const out = mkdtempSync(join(tmpdir(), 'raftctl-gen-'))
try {
  for (const run of runs) {
    execFileSync(join(root, 'node_modules', '.bin', 'buf'),
      ['generate', join(root, 'proto'), '--config', '{"version":"v2"}', '--template', template(run.options), ...run.select, '-o', out],
      {stdio: 'inherit', cwd: root})
  }
  if (!check) {
    rmSync(target, {recursive: true, force: true})
    cpSync(out, target, {recursive: true})
    console.log(`generated ${listFiles(target).length} files into src/generated`)
  } else {
    const want = listFiles(out).map((f) => relative(out, f))
    const have = listFiles(target).map((f) => relative(target, f))
    const stale = []
    for (const f of new Set([...want, ...have])) {
      const a = want.includes(f) ? readFileSync(join(out, f), 'utf8') : null
      const b = have.includes(f) ? readFileSync(join(target, f), 'utf8') : null
      if (a !== b) stale.push(f)
    }
    if (stale.length > 0) {
      console.error(`src/generated is stale; run "npm run gen". Differs: ${stale.join(', ')}`)
      process.exit(1)
    }
    console.log(`src/generated is current (${want.length} files)`)
  }
} finally {
  rmSync(out, {recursive: true, force: true})
}
