/** Tables for human output (cli-table3): box-drawing borders and no colours, so they read the same in a terminal and in logs. */
import Table from 'cli-table3'

/** Renders rows under a header as a table string. */
export function renderTable(head: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const table = new Table({head: [...head], style: {head: [], border: []}})
  for (const row of rows) table.push(row.map((c) => String(c)))
  return table.toString()
}

/** Formats a byte count as a short human string (e.g. 1.5 MiB). */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let i = 0
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`
}
