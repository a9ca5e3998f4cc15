/** Settings of the benchmarks, read from the environment. */

/** Reads an integer setting of at least `min` from the environment, or exits naming the variable. */
export function envCount(name: string, fallback: number, min: number): number {
  const text = process.env[name]
  if (text === undefined || text === '') return fallback
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < min) {
    process.stderr.write(`${name}="${text}" is not an integer of at least ${min}\n`)
    process.exit(2)
  }
  return n
}
