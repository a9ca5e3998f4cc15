/**
 * Turns etcdctl's output into text that is the same on every run, so real outputs can be kept as
 * golden files: member and cluster ids, ports, durations, the server version, backend sizes and
 * Raft indexes in status become named placeholders, and ASCII tables are drawn again around the new cell values exactly as etcdctl
 * draws them (header centred, cells right-aligned, one space of padding). clientv3's JSON log
 * lines on stderr ("retrying of unary invoker failed", with timestamps) are dropped.
 */
import type {Member} from '../../src/generated/etcd/etcdserverpb/cluster.js'

/** Parses the rows of an etcdctl table (border lines skipped, cells trimmed). */
export function parseTable(lines: readonly string[]): string[][] {
  return lines.filter((l) => l.startsWith('|')).map((l) => l.slice(1, -1).split('|').map((c) => c.trim()))
}

/** Draws a table as etcdctl (olekukonko/tablewriter, right-aligned) does; rows[0] is the header. */
export function renderTable(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  const border = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`
  const center = (s: string, w: number): string => {
    const left = Math.floor((w - s.length) / 2)
    return ' '.repeat(left) + s + ' '.repeat(w - s.length - left)
  }
  const line = (r: readonly string[], header: boolean): string =>
    `|${r.map((c, i) => ` ${header ? center(c, widths[i]) : c.padStart(widths[i])} `).join('|')}|`
  return [border, line(rows[0], true), border, ...rows.slice(1).map((r) => line(r, false)), border]
}

const DURATION = /^\d+(\.\d+)?(ns|µs|ms|s)$/

/**
 * The parts of a member's status that vary from run to run even on a fresh single member (the
 * backend's sizes and the Raft log index), by table column; normalizeStatus does the same in the
 * other formats.
 */
const STATUS_COLUMNS: Partial<Record<string, string>> = {'DB SIZE': '<DB_SIZE>', 'RAFT INDEX': '<RAFT_INDEX>', 'RAFT APPLIED INDEX': '<RAFT_INDEX>'}

function normalizeStatus(text: string): string {
  return text
    .replace(/"(dbSize|dbSizeInUse|raftIndex|raftAppliedIndex)":\d+/g, (_m, f: string) => `"${f}":${f.startsWith('db') ? '<DB_SIZE>' : '<RAFT_INDEX>'}`)
    .replace(/"(DBSize|RaftIndex|RaftAppliedIndex)" : \d+/g, (_m, f: string) => `"${f}" : ${f === 'DBSize' ? '<DB_SIZE>' : '<RAFT_INDEX>'}`)
    .replace(/^([^,\n]+, [^,\n]+, [^,\n]+, )\d+(\.\d+)? [kMG]?B(, (?:true|false), (?:true|false), \d+, )\d+, \d+, /gm, '$1<DB_SIZE>$3<RAFT_INDEX>, <RAFT_INDEX>, ')
}

/** The runs of consecutive table lines (starting with "+" or "|" and opened by a border). */
function tableBlocks(lines: readonly string[]): string[][] {
  const blocks: string[][] = []
  for (let i = 0; i < lines.length;) {
    if (!lines[i].startsWith('+')) {
      i++
      continue
    }
    const start = i
    while (i < lines.length && (lines[i].startsWith('+') || lines[i].startsWith('|'))) i++
    blocks.push(lines.slice(start, i))
  }
  return blocks
}

/** Replaces what differs between runs in etcdctl's output; learn() the cluster before each use. */
export class EtcdctlText {
  private readonly ids = new Map<bigint, string>()
  private clusterId = 0n
  private version = ''
  private readonly ports = new Map<number, string>()

  /**
   * Records the cluster's ids (members by name; a member without one, like a learner that never
   * started, as m1, m2, ... in the order first seen), its version and the members' ports.
   * Members removed later keep their placeholder.
   */
  learn(clusterId: bigint, version: string, members: readonly Member[]): void {
    this.clusterId = clusterId
    this.version = version
    for (const m of members) {
      if (!this.ids.has(m.ID)) this.ids.set(m.ID, m.name !== '' ? m.name : `m${[...this.ids.values()].filter((n) => /^m\d+$/.test(n)).length + 1}`)
      const name = this.ids.get(m.ID)!
      for (const [urls, kind] of [[m.clientURLs, 'CLIENT'], [m.peerURLs, 'PEER']] as const) {
        for (const u of urls) {
          const port = /^http:\/\/127\.0\.0\.1:(\d+)$/.exec(u)?.[1]
          if (port !== undefined && Number(port) > 1024) this.ports.set(Number(port), `<${kind}_PORT:${name}>`)
        }
      }
    }
  }

  /** Replaces each "<ID:name>" in a command argument by that member's id in hex, as etcdctl takes it. */
  resolve(arg: string): string {
    return arg.replace(/<ID:([^>]+)>/g, (m, name: string) => {
      const id = [...this.ids].find(([, n]) => n === name)?.[0]
      if (id === undefined) throw new Error(`no member ${name} known for ${m}`)
      return id.toString(16)
    })
  }

  /** The placeholder of one table cell (under `header`), or the cell unchanged. */
  private cell(s: string, header: string): string {
    if (DURATION.test(s)) return '<DURATION>'
    return STATUS_COLUMNS[header] ?? s
  }

  private replaceAll(text: string): string {
    let out = text
    const literals: Array<[string, string]> = [[String(this.clusterId), '<CLUSTER_ID>'], [this.clusterId.toString(16), '<CLUSTER_ID>']]
    for (const [id, name] of this.ids) literals.push([String(id), `<ID:${name}>`], [id.toString(16), `<ID:${name}>`])
    if (this.version !== '') literals.push([this.version, '<VERSION>'])
    // etcdctl prints the ids of these lines with %16x: a shorter hex id comes with spaces in front.
    out = out.replace(/^Member +([0-9a-f]+) (added to|removed from|updated in) cluster +([0-9a-f]+)$/gm, 'Member $1 $2 cluster $3')
    for (const [lit, placeholder] of literals.sort((a, b) => b[0].length - a[0].length)) {
      out = out.replace(new RegExp(`(?<![0-9a-f])${lit.replaceAll('.', '\\.')}(?![0-9a-f])`, 'g'), placeholder)
    }
    out = out.replace(/127\.0\.0\.1:(\d+)/g, (m, p: string) => {
      const placeholder = this.ports.get(Number(p))
      return placeholder === undefined ? m : `127.0.0.1:${placeholder}`
    })
    out = out.replace(/(took = |"took":"|"Took" : )(\d+(\.\d+)?(ns|µs|ms|s))/g, (_m, pre: string) => `${pre}<DURATION>`)
    return normalizeStatus(out)
  }

  /**
   * Normalizes stdout: values first, then every table drawn again around its new cells. Throws
   * when one of etcdctl's tables is not exactly what renderTable draws from its cells, so the
   * renderer's model of etcdctl's tables is checked on every run.
   */
  stdout(text: string): string {
    for (const block of tableBlocks(text.split('\n'))) {
      const drawn = renderTable(parseTable(block)).join('\n')
      if (drawn !== block.join('\n')) throw new Error(`etcdctl drew a table renderTable does not reproduce:\n${block.join('\n')}\nvs\n${drawn}`)
    }
    const lines = this.replaceAll(text).split('\n')
    const out: string[] = []
    let at = 0
    for (const block of tableBlocks(lines)) {
      const start = lines.indexOf(block[0], at)
      out.push(...lines.slice(at, start))
      const rows = parseTable(block)
      out.push(...renderTable(rows.map((r, n) => n === 0 ? r : r.map((c, i) => this.cell(c, rows[0][i])))))
      at = start + block.length
    }
    return [...out, ...lines.slice(at)].join('\n')
  }

  /**
   * etcd lists members in ascending id order, and ids are random: this puts normalized member
   * lists (simple lines, table rows, JSON members, fields blocks, ETCD_INITIAL_CLUSTER entries)
   * in placeholder order instead, so they compare equal between runs.
   */
  sortMembers(normalized: string): string {
    const lines = normalized.split('\n')
    const sortRuns = (isMember: (l: string) => boolean): void => {
      for (let i = 0; i < lines.length;) {
        if (!isMember(lines[i])) { i++; continue }
        let j = i
        while (j < lines.length && isMember(lines[j])) j++
        lines.splice(i, j - i, ...lines.slice(i, j).sort())
        i = j
      }
    }
    sortRuns((l) => /^<ID:[^>]+>, /.test(l) || /^\| <ID:[^>]+> \|/.test(l))
    let out = lines.join('\n')
    out = out.replace(/"members":\[(.*)\]\}/g, (_m, body: string) => `"members":[${body.split(/(?<=\}),(?=\{"ID")/).sort().join(',')}]}`)
    out = out.replace(/ETCD_INITIAL_CLUSTER="([^"]*)"/, (_m, list: string) => `ETCD_INITIAL_CLUSTER="${list.split(',').sort().join(',')}"`)
    return out.replace(/("ID" : <ID:[^>]+>\n(?:"[^\n]*\n)*\n)+/g, (blocks) => blocks.split(/(?<=\n\n)/).filter((x) => x !== '').sort().join(''))
  }

  /** Normalizes stderr, without clientv3's JSON log lines. */
  stderr(text: string): string {
    return this.replaceAll(text.split('\n').filter((l) => !l.startsWith('{"level":')).join('\n'))
  }
}
