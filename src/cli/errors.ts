/**
 * Maps any error a command can meet (flag parsing, gRPC status, client errors) to one line that
 * names what was wrong and, where it helps, what to do.
 */

/** Returns the first line of an error's message, cleaned of stack-like noise. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const details = (err as {details?: unknown}).details
    const text = typeof details === 'string' && details !== '' ? details : err.message
    return firstLine(text)
  }
  return firstLine(String(err))
}

function firstLine(text: string): string {
  const line = text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? 'unknown error'
  return line.replace(/^Error: /, '')
}
