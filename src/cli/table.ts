/**
 * Tables for human output (cli-table3): box-drawing borders and no colours, so they read the same
 * in a terminal and in logs. This is the one place tables are built, and it keeps every cell safe
 * and small: text and bytes go through printable() (control characters and invalid UTF-8
 * escaped) and a cell is cut at MAX_CELL characters with "…", with one note under the table
 * saying how to see everything. Only as much of a value is read as the cell shows, so the cost
 * of a table does not grow with the size of the values in it.
 */
import Table from 'cli-table3'
import {hexEscaped, printable, type PrintableText} from './printable.js'

/** Longest text of one cell, in characters, before it is cut. */
export const MAX_CELL = 80

/** What a cell may hold: text, a number, or bytes (a key or value; shown hex-escaped with `hex`). */
export type Cell = string | number | boolean | Uint8Array | {readonly bytes: Uint8Array, readonly hex: boolean}

/** The shown text of a cell, cut at `max` characters. */
export function cellText(c: Cell, max = MAX_CELL): PrintableText {
  if (typeof c === 'number' || typeof c === 'boolean') return printable(String(c), {maxChars: max})
  if (typeof c === 'string' || c instanceof Uint8Array) return printable(c, {maxChars: max})
  return c.hex ? hexEscaped(c.bytes, max) : printable(c.bytes, {maxChars: max})
}

/** Renders rows under a header as a table string, with the note about cut cells when any was. */
export function renderTable(head: readonly string[], rows: ReadonlyArray<ReadonlyArray<Cell>>): string {
  const table = new Table({head: [...head], style: {head: [], border: []}})
  let cut = 0
  for (const row of rows) {
    table.push(row.map((c) => {
      const t = cellText(c)
      if (!t.cut) return t.text
      cut++
      return `${t.text}…`
    }))
  }
  const note = cut === 0 ? '' : `\n(${cut} ${cut === 1 ? 'cell was' : 'cells were'} cut at ${MAX_CELL} characters (…); --write-out json prints everything)`
  return table.toString() + note
}

/** Formats a byte count as a short human string (e.g. 1.5 MiB). */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let i = 0
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`
}
