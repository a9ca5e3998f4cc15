/**
 * A minimal async mutex: `run(fn)` starts fn after every earlier run has settled, so writes that
 * read memory, write RocksDB and then update memory never interleave.
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve()
  private depth = 0

  /** True while a run is in progress or queued. */
  get busy(): boolean {
    return this.depth > 0
  }

  run<T>(fn: () => Promise<T> | T): Promise<T> {
    this.depth += 1
    const result = this.tail.then(fn)
    this.tail = result.then(() => undefined, () => undefined).finally(() => {
      this.depth -= 1
    })
    return result
  }
}
