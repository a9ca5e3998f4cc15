/**
 * Reads the imports of every TypeScript file under src/ and checks them against the dependency
 * direction of DESIGN.md §1. Kept separate from the test so the checker itself can be tested on
 * synthetic import graphs.
 */
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'

/** One import edge: `from` (a path relative to src/) imports `spec` (resolved when relative). */
export interface ImportEdge {
  readonly from: string
  readonly spec: string
  /** For relative imports: the imported file relative to src/ (with .ts); otherwise undefined. */
  readonly target?: string
}

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'"`;]*?\s+from\s+)?['"]([^'"]+)['"]/g
const DYNAMIC_RE = /import\(\s*['"]([^'"]+)['"]\s*\)/g

export function listTsFiles(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...listTsFiles(p))
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p)
  }
  return out.sort()
}

/** Extracts the module specifiers a source text imports or re-exports. */
export function importSpecifiers(source: string): string[] {
  const specs: string[] = []
  for (const re of [IMPORT_RE, DYNAMIC_RE]) {
    re.lastIndex = 0
    for (let m = re.exec(source); m !== null; m = re.exec(source)) specs.push(m[1])
  }
  return specs
}

/** Reads every import edge of the files under `srcDir`. */
export function readEdges(srcDir: string): ImportEdge[] {
  const edges: ImportEdge[] = []
  for (const file of listTsFiles(srcDir)) {
    const from = relative(srcDir, file)
    for (const spec of importSpecifiers(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.')) {
        const abs = resolve(dirname(file), spec).replace(/\.js$/, '.ts')
        edges.push({from, spec, target: relative(srcDir, abs)})
      } else {
        edges.push({from, spec})
      }
    }
  }
  return edges
}

/** The top-level module (first path segment under src/) of a path relative to src/. */
export function moduleOf(path: string): string {
  return path.split('/')[0]
}

/**
 * Which modules each module may import (itself always allowed). Mirrors DESIGN.md §1:
 * commands → cli → client → raftpb → raft; commands/server → server → {transport, lease, kv,
 * storage} → raftpb → raft, with lease → kv → storage. kv sits on storage's database wrapper; the offline snapshot and server
 * commands reach lease/kv/storage/server directly, as listed in COMMAND_EXCEPTIONS.
 */
export const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  raft: ['generated'],
  generated: [],
  raftpb: ['raft', 'generated'],
  storage: ['raftpb', 'raft', 'generated'],
  kv: ['storage', 'raftpb', 'raft', 'generated'],
  lease: ['kv', 'storage', 'raftpb', 'raft', 'generated'],
  transport: ['raftpb', 'raft', 'generated'],
  server: ['transport', 'lease', 'kv', 'storage', 'raftpb', 'raft', 'generated'],
  client: ['raftpb', 'raft', 'generated'],
  cli: ['client', 'raftpb', 'raft', 'generated'],
  commands: ['cli', 'client', 'raftpb', 'raft', 'generated'],
}

/** Command folders that may reach further down than `cli`, and what they may reach. */
export const COMMAND_EXCEPTIONS: Readonly<Record<string, readonly string[]>> = {
  'commands/server/': ['server'],
  'commands/snapshot/': ['lease', 'kv', 'storage'],
}

/**
 * etcd's Lock and Election services are clients of their own server, as etcd's v3lock and
 * v3election servers are (a clientv3 to themselves): they run the client's concurrency recipes
 * over the server's own client port. Only these files may import the client, and only those
 * recipes.
 */
export const SERVER_CLIENT_FILES: ReadonlySet<string> = new Set([
  'server/services/etcd/lock.ts', 'server/services/etcd/election.ts', 'server/services/etcd/recipes.ts',
])
const SERVER_CLIENT_TARGET = 'client/concurrency/'

/** Packages the pure core may never use (besides every node: builtin). */
const RAFT_FORBIDDEN_PACKAGES = /^(@grpc\/|rocksdb$|node:)/

/** The one file of the core allowed to use the generated wire code (conf-change encoding). */
export const RAFT_WIRE_FILES: ReadonlySet<string> = new Set(['raft/conf_change.ts'])

/** Returns a list of human-readable violations of the rules above. */
export function checkEdges(edges: readonly ImportEdge[]): string[] {
  const problems: string[] = []
  for (const e of edges) {
    const fromMod = moduleOf(e.from)
    if (e.target === undefined) {
      if (fromMod === 'raft') {
        const why = RAFT_FORBIDDEN_PACKAGES.test(e.spec) ? 'I/O and platform modules' : 'any package'
        problems.push(`${e.from} imports "${e.spec}"; src/raft must be pure (no ${why})`)
      }
      continue
    }
    const toMod = moduleOf(e.target)
    if (toMod === fromMod) {
      problems.push(...checkInsideRaft(e))
      continue
    }
    const extra = Object.entries(COMMAND_EXCEPTIONS)
      .filter(([prefix]) => e.from.startsWith(prefix)).flatMap(([, mods]) => mods)
    if (SERVER_CLIENT_FILES.has(e.from) && e.target.startsWith(SERVER_CLIENT_TARGET)) extra.push('client')
    const allowed = [...(ALLOWED[fromMod] ?? []), ...extra]
    if (!allowed.includes(toMod)) {
      problems.push(`${e.from} imports ${e.target}: ${fromMod} may not depend on ${toMod}`)
    } else if (fromMod === 'raft' && toMod === 'generated') {
      if (!RAFT_WIRE_FILES.has(e.from) || e.target !== 'generated/eraftpb.ts') {
        problems.push(`${e.from} imports ${e.target}: only raft/conf_change.ts may use generated/eraftpb`)
      }
    }
  }
  return problems
}

/** The membership packages depend only downwards: confchange → tracker → quorum. */
function checkInsideRaft(e: ImportEdge): string[] {
  const sub = (p: string): string => p.split('/')[1] ?? ''
  if (moduleOf(e.from) !== 'raft' || e.target === undefined) return []
  const order: Record<string, number> = {quorum: 0, tracker: 1, confchange: 2}
  const from = sub(e.from)
  const to = sub(e.target)
  if (!(from in order)) return []
  if (from === 'quorum' && to !== 'quorum') {
    return [`${e.from} imports ${e.target}: raft/quorum imports nothing outside itself`]
  }
  const shared = to === 'types.ts' || to === 'errors.ts'
  if (!shared && (!(to in order) || order[to] > order[from])) {
    return [`${e.from} imports ${e.target}: raft/${from} may only import lower membership packages`]
  }
  return []
}

/** Returns every import cycle between files, each as a list of files. */
export function findCycles(edges: readonly ImportEdge[]): string[][] {
  const graph = new Map<string, string[]>()
  for (const e of edges) {
    if (e.target === undefined) continue
    graph.set(e.from, [...(graph.get(e.from) ?? []), e.target])
  }
  const cycles: string[][] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const stack: string[] = []
  const visit = (node: string): void => {
    state.set(node, 'visiting')
    stack.push(node)
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'visiting') cycles.push([...stack.slice(stack.indexOf(next)), next])
      else if (state.get(next) === undefined) visit(next)
    }
    stack.pop()
    state.set(node, 'done')
  }
  for (const node of [...graph.keys()].sort()) if (state.get(node) === undefined) visit(node)
  return cycles
}
