/**
 * The protos the etcd compatibility tests compare ours with, loaded the way etcd clients load
 * them, and our generated codecs by message name.
 *
 * - etcd3Root() / etcd3Definition(): the protos the `etcd3` npm client ships (etcdserverpb, mvccpb
 *   and authpb as of etcd 3.5), through the very protobufjs and @grpc/proto-loader instances and
 *   options that client uses, so a serialize/deserialize here is byte for byte what it sends and
 *   reads.
 * - debianRoot() / debianDefinition(): etcd 3.4's own protos from Debian's golang-etcd-server-dev
 *   (all five packages, Lock and Election included), or undefined when it is not installed. Each
 *   file is parsed on its own, so the gogoproto and HTTP-gateway imports are never needed.
 * - oursRoot(): proto/etcd parsed with the same protobufjs (to read names, numbers and options).
 * - ourCodecs(): the ts-proto codec of every message under src/generated/etcd, by full name.
 */
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {BinaryWriter} from '@bufbuild/protobuf/wire'
import * as authpb from '../../src/generated/etcd/authpb/auth.js'
import * as auth from '../../src/generated/etcd/etcdserverpb/auth.js'
import * as cluster from '../../src/generated/etcd/etcdserverpb/cluster.js'
import * as header from '../../src/generated/etcd/etcdserverpb/header.js'
import * as kv from '../../src/generated/etcd/etcdserverpb/kv.js'
import * as lease from '../../src/generated/etcd/etcdserverpb/lease.js'
import * as maintenance from '../../src/generated/etcd/etcdserverpb/maintenance.js'
import * as watch from '../../src/generated/etcd/etcdserverpb/watch.js'
import * as mvccpb from '../../src/generated/etcd/mvccpb/kv.js'
import * as v3election from '../../src/generated/etcd/v3electionpb/v3election.js'
import * as v3lock from '../../src/generated/etcd/v3lockpb/v3lock.js'

type ProtobufJs = typeof import('protobufjs')
type ProtoLoader = typeof import('@grpc/proto-loader')
export type Root = import('protobufjs').Root
export type PackageDefinition = import('@grpc/proto-loader').PackageDefinition

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
const etcd3Main = createRequire(import.meta.url).resolve('etcd3')
const fromEtcd3 = createRequire(etcd3Main)
/** The @grpc/proto-loader the etcd3 client resolves (its own copy when it has one). */
const protoLoader = fromEtcd3('@grpc/proto-loader') as ProtoLoader
/** The protobufjs behind that proto-loader. */
export const protobuf = createRequire(fromEtcd3.resolve('@grpc/proto-loader'))('protobufjs') as ProtobufJs

/** The options etcd3's connection pool passes to proto-loader (lib/connection-pool.js). */
export const ETCD3_LOADER_OPTIONS = {keepCase: true, longs: String, enums: String, defaults: true, oneofs: true}

const ETCD3_RPC_PROTO = join(dirname(etcd3Main), '..', 'proto', 'rpc.proto')
const DEBIAN_ETCD = '/usr/share/gocode/src/go.etcd.io/etcd'
/** etcd 3.4's proto files as Debian's golang-etcd-server-dev installs them. */
export const DEBIAN_FILES = [
  'mvcc/mvccpb/kv.proto',
  'auth/authpb/auth.proto',
  'etcdserver/etcdserverpb/rpc.proto',
  'etcdserver/api/v3lock/v3lockpb/v3lock.proto',
  'etcdserver/api/v3election/v3electionpb/v3election.proto',
].map((f) => join(DEBIAN_ETCD, f))

/** Parses each file into one root without following imports, then resolves every type. */
function parseFiles(files: readonly string[]): Root {
  const root = new protobuf.Root()
  for (const f of files) protobuf.parse(readFileSync(f, 'utf8'), root, {keepCase: true})
  root.resolveAll()
  return root
}

function protoFiles(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) return protoFiles(p)
    return p.endsWith('.proto') ? [p] : []
  })
}

let cached: {etcd3?: Root, etcd3Def?: PackageDefinition, debian?: Root | null, debianDef?: PackageDefinition, ours?: Root} = {}

export function etcd3Root(): Root {
  cached.etcd3 ??= new protobuf.Root().loadSync(ETCD3_RPC_PROTO, {keepCase: true})
  cached.etcd3.resolveAll()
  return cached.etcd3
}

/** The method definitions the etcd3 client builds its stubs from. */
export function etcd3Definition(): PackageDefinition {
  cached.etcd3Def ??= protoLoader.loadSync(ETCD3_RPC_PROTO, ETCD3_LOADER_OPTIONS)
  return cached.etcd3Def
}

/** Whether Debian's etcd 3.4 protos are installed (golang-etcd-server-dev). */
export function haveDebianProtos(): boolean {
  return DEBIAN_FILES.every((f) => existsSync(f))
}

export function debianRoot(): Root | undefined {
  if (cached.debian === undefined) cached.debian = haveDebianProtos() ? parseFiles(DEBIAN_FILES) : null
  return cached.debian ?? undefined
}

/** Method definitions built from Debian's protos with etcd3's loader options. */
export function debianDefinition(): PackageDefinition | undefined {
  const root = debianRoot()
  if (root === undefined) return undefined
  cached.debianDef ??= protoLoader.fromJSON(root.toJSON(), ETCD3_LOADER_OPTIONS)
  return cached.debianDef
}

export function oursRoot(): Root {
  cached.ours ??= parseFiles(protoFiles(join(REPO_ROOT, 'proto', 'etcd')))
  return cached.ours
}

/** A generated ts-proto codec. */
export interface Codec<T = unknown> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter
  decode(input: Uint8Array, length?: number): T
}

const GENERATED: ReadonlyArray<Record<string, unknown>> =
  [authpb, auth, cluster, header, kv, lease, maintenance, watch, mvccpb, v3election, v3lock]

function isCodec(v: unknown): v is Codec {
  return typeof v === 'object' && v !== null && typeof (v as Codec).encode === 'function' && typeof (v as Codec).decode === 'function'
}

/**
 * Every generated message codec by its full protobuf name ("etcdserverpb.RangeRequest"). ts-proto
 * names a nested type Parent_Child; etcd's message names contain no underscore.
 */
export function ourCodecs(): Map<string, Codec> {
  const out = new Map<string, Codec>()
  for (const mod of GENERATED) {
    for (const [name, value] of Object.entries(mod)) {
      if (isCodec(value)) out.set(`${String(mod.protobufPackage)}.${name.replaceAll('_', '.')}`, value)
    }
  }
  return out
}
