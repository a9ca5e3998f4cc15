/**
 * Turning keys, values and messages into text that is safe to show: valid UTF-8 stays as it is,
 * control characters (C0, DEL, C1, line and paragraph separators) and bytes that are not valid
 * UTF-8 become escapes (\n, \t, \r, \xNN, \u{NNNN}), so nothing a stored value contains can move
 * the cursor, clear the screen or break a table's layout. Work is bounded by `maxChars`: only as
 * much of the input is read as the output may show, so a huge value costs no more than a short
 * one. The exact bytes are printed only by the raw paths of src/cli/output.ts.
 */

/** What to escape and how much to show. */
export interface PrintableOptions {
  /** Longest output in characters; the rest is cut (and `cut` is true). Default: no limit. */
  readonly maxChars?: number
  /** Also escape `"` and `\` (for the quoted strings of the fields format). */
  readonly quote?: boolean
}

export interface PrintableText {
  readonly text: string
  /** True when the input did not fit in maxChars. */
  readonly cut: boolean
}

const NAMED: Record<number, string> = {0x09: '\\t', 0x0a: '\\n', 0x0d: '\\r'}
const fatal = new TextDecoder('utf-8', {fatal: true})

/**
 * True for code points that must never reach a terminal as they are: C0 and C1 controls, DEL,
 * line and paragraph separators, bidirectional overrides and isolates (they reorder what
 * follows), and lone surrogates (a string, unlike bytes, can hold one).
 */
function isControl(cp: number): boolean {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp === 0x2028 || cp === 0x2029 ||
    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || (cp >= 0xd800 && cp <= 0xdfff)
}

/** The escaped form of one code point. */
function escapeCodePoint(cp: number, quote: boolean): string {
  if (isControl(cp)) {
    if (NAMED[cp] !== undefined) return NAMED[cp]
    return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`
  }
  if (quote && (cp === 0x22 || cp === 0x5c)) return `\\${String.fromCodePoint(cp)}`
  return String.fromCodePoint(cp)
}

/** The length of the UTF-8 sequence a lead byte starts (1 for ASCII; 0 for a byte that cannot lead). */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1
  if (lead >= 0xc2 && lead <= 0xdf) return 2
  if (lead >= 0xe0 && lead <= 0xef) return 3
  if (lead >= 0xf0 && lead <= 0xf4) return 4
  return 0
}

/** Yields the pieces of `b`: the escaped text of each character, or \xNN for each invalid byte. */
function* bytePieces(b: Uint8Array, quote: boolean): Generator<string> {
  let i = 0
  while (i < b.length) {
    const n = sequenceLength(b[i])
    let cp: number | undefined
    if (n === 1) cp = b[i]
    else if (n > 1 && i + n <= b.length) {
      try {
        cp = fatal.decode(b.subarray(i, i + n)).codePointAt(0)
      } catch {
        cp = undefined
      }
    }
    if (cp === undefined) {
      yield `\\x${b[i].toString(16).padStart(2, '0')}`
      i += 1
    } else {
      yield escapeCodePoint(cp, quote)
      i += n
    }
  }
}

function* stringPieces(s: string, quote: boolean): Generator<string> {
  for (const ch of s) yield escapeCodePoint(ch.codePointAt(0)!, quote)
}

/** The printable form of a string or of bytes (see the module comment). */
export function printable(value: string | Uint8Array, opts: PrintableOptions = {}): PrintableText {
  const max = opts.maxChars ?? Number.POSITIVE_INFINITY
  const quote = opts.quote === true
  let text = ''
  for (const piece of typeof value === 'string' ? stringPieces(value, quote) : bytePieces(value, quote)) {
    if (text.length + piece.length > max) return {text, cut: true}
    text += piece
  }
  return {text, cut: false}
}

/** Every byte as \xNN (etcdctl's --hex form), bounded like printable. */
export function hexEscaped(b: Uint8Array, maxChars = Number.POSITIVE_INFINITY): PrintableText {
  const bytes = Math.min(b.length, Math.floor(maxChars / 4))
  let text = ''
  for (let i = 0; i < bytes; i++) text += `\\x${b[i].toString(16).padStart(2, '0')}`
  return {text, cut: bytes < b.length}
}

/** True when `b` is valid UTF-8 (so it can be shown, or put in JSON, as text without loss). */
export function isUtf8(b: Uint8Array): boolean {
  try {
    fatal.decode(b)
    return true
  } catch {
    return false
  }
}
