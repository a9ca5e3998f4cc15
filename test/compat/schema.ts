/**
 * Reflection over protobufjs roots for the compatibility tests: a flat list of every message,
 * enum and service with one signature line per field, value and method, a comparison of two such
 * lists, and a sample object with every field of a message set.
 */
import type {Enum, Field, Namespace, ReflectionObject, Root, Service, Type} from 'protobufjs'
import {protobuf} from './protos.js'

/** A message, enum or service and the signature lines of its members, by member name. */
export interface Shape {
  readonly kind: 'message' | 'enum' | 'service'
  readonly members: ReadonlyMap<string, string>
}

function typeName(f: Field): string {
  return f.resolvedType ? f.resolvedType.fullName.slice(1) : f.type
}

function fieldSignature(f: Field): string {
  return `${f.repeated ? 'repeated ' : ''}${typeName(f)} = ${f.id}${f.partOf ? ` (oneof ${f.partOf.name})` : ''}`
}

function shapeOf(o: ReflectionObject): Shape | undefined {
  if (o instanceof protobuf.Type) {
    const t = o as Type
    return {kind: 'message', members: new Map(t.fieldsArray.map((f) => [f.name, fieldSignature(f)]))}
  }
  if (o instanceof protobuf.Enum) {
    return {kind: 'enum', members: new Map(Object.entries((o as Enum).values).map(([name, n]) => [name, `= ${n}`]))}
  }
  if (o instanceof protobuf.Service) {
    return {kind: 'service', members: new Map((o as Service).methodsArray.map((m) => [m.name,
      `(${m.requestStream ? 'stream ' : ''}${m.resolvedRequestType!.fullName.slice(1)}) returns ` +
      `(${m.responseStream ? 'stream ' : ''}${m.resolvedResponseType!.fullName.slice(1)})`]))}
  }
  return undefined
}

/** Every message, enum and service under `root`, by full name without the leading dot. */
export function shapes(root: Root): Map<string, Shape> {
  const out = new Map<string, Shape>()
  const walk = (ns: Namespace): void => {
    for (const o of ns.nestedArray) {
      const s = shapeOf(o)
      if (s !== undefined) out.set(o.fullName.slice(1), s)
      if (o instanceof protobuf.Namespace) walk(o as Namespace)
    }
  }
  walk(root)
  return out
}

/** Folds an enum value name so that etcd3's renamed values ("NotEqual") meet etcd's ("NOT_EQUAL"). */
export const foldEnumName = (name: string): string => name.replaceAll('_', '').toUpperCase()

/**
 * Lists every member of `ref` that `ours` lacks or declares differently, as one line each. With
 * `foldEnumNames` enum values are matched by folded name (for etcd3's protos).
 */
export function missingFrom(ours: Map<string, Shape>, ref: Map<string, Shape>, foldEnumNames = false): string[] {
  const problems: string[] = []
  for (const [name, want] of ref) {
    const have = ours.get(name)
    if (have === undefined || have.kind !== want.kind) {
      problems.push(`${want.kind} ${name}: missing`)
      continue
    }
    const fold = foldEnumNames && want.kind === 'enum' ? foldEnumName : (s: string) => s
    const haveMembers = new Map([...have.members].map(([k, v]) => [fold(k), v]))
    for (const [member, sig] of want.members) {
      const got = haveMembers.get(fold(member))
      if (got !== sig) problems.push(`${name}.${member}: etcd has "${sig}", ours ${got === undefined ? 'lacks it' : `has "${got}"`}`)
    }
  }
  return problems
}

/** Field values a sample uses for 64-bit fields: beyond 2^53 unless ours maps the field to number. */
export const SAMPLE_LONGS = {int64: '9223372036854775807', uint64: '18446744073709551615', jsNumber: '9007199254740991'}

function scalarSample(f: Field, jsNumber: boolean): unknown {
  switch (f.type) {
    case 'bool': return true
    case 'string': return `${f.name} é€ ${f.id}`
    case 'bytes': return Buffer.from([0, 0xff, f.id & 0xff, 0x80])
    case 'uint32': return 4294967295
    case 'int32': return -2147483648
    case 'int64': return jsNumber ? SAMPLE_LONGS.jsNumber : SAMPLE_LONGS.int64
    case 'uint64': return jsNumber ? SAMPLE_LONGS.jsNumber : SAMPLE_LONGS.uint64
    default: throw new Error(`no sample value for field ${f.fullName} of type ${f.type}`)
  }
}

/**
 * A plain object for `type` (protobufjs fromObject form) with every field set to a value that is
 * not the default, nested messages down to `depth` levels. Of each oneof only member number
 * `variant` (modulo the oneof's size) is set. `isJsNumber` tells which 64-bit fields our
 * generated code maps to number.
 */
export function sampleObject(type: Type, variant: number, isJsNumber: (f: Field) => boolean, depth = 3): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const f of type.fieldsArray) {
    if (f.partOf && f.partOf.fieldsArray[variant % f.partOf.fieldsArray.length] !== f) continue
    let value: unknown
    if (f.resolvedType instanceof protobuf.Enum) {
      const numbers = Object.values((f.resolvedType as Enum).values)
      value = f.repeated ? numbers : Math.max(...numbers)
    } else if (f.resolvedType instanceof protobuf.Type) {
      if (depth === 0) continue
      value = sampleObject(f.resolvedType as Type, variant + 1, isJsNumber, depth - 1)
    } else {
      value = scalarSample(f, isJsNumber(f))
    }
    out[f.name] = f.repeated && !Array.isArray(value) ? [value, value] : value
  }
  return out
}

/** The number of variants sampleObject needs to set each member of each oneof of `type` once. */
export function variantCount(type: Type): number {
  return Math.max(1, ...type.oneofsArray.map((o) => o.fieldsArray.length))
}

/** Every message type under `root`. */
export function messageTypes(root: Root): Type[] {
  const out: Type[] = []
  const walk = (ns: Namespace): void => {
    for (const o of ns.nestedArray) {
      if (o instanceof protobuf.Type) out.push(o as Type)
      if (o instanceof protobuf.Namespace) walk(o as Namespace)
    }
  }
  walk(root)
  return out
}
