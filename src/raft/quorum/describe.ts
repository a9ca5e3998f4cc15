/**
 * The human-readable picture of acknowledged indexes used by quorum golden files (etcd-io/raft
 * MajorityConfig.Describe). Kept apart from the arithmetic so majority.ts stays small.
 */

interface Row {
  readonly id: number
  readonly idx: number
  readonly ok: boolean
  bar: number
}

/**
 * Renders one line per id (ascending): a bar of "x" followed by ">" whose length is the number
 * of voters with a strictly smaller index (equal indexes get equal bars), or "?" when the voter
 * acked nothing; then the index and the id. `sorted` must be sorted ascending and distinct.
 */
export function describeAcks(sorted: readonly number[], acked: (id: number) => number | undefined): string {
  const n = sorted.length
  if (n === 0) return '<empty majority quorum>\n'
  const rows: Row[] = sorted.map((id) => {
    const v = acked(id)
    return {id, idx: v ?? 0, ok: v !== undefined, bar: 0}
  })
  const byIndex = [...rows].sort((a, b) => a.idx - b.idx || a.id - b.id)
  for (let i = 1; i < n; i++) {
    byIndex[i].bar = byIndex[i - 1].idx < byIndex[i].idx ? i : byIndex[i - 1].bar
  }
  let out = ' '.repeat(n) + '    idx\n'
  for (const r of rows) {
    const bar = r.ok ? 'x'.repeat(r.bar) + '>' + ' '.repeat(n - r.bar) : '?' + ' '.repeat(n)
    out += `${bar} ${String(r.idx).padStart(5)}    (id=${r.id})\n`
  }
  return out
}
