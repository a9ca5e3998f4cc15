/**
 * A size-limited tmpfs for the disk-fault tests: real ENOSPC and EROFS from the kernel. Mounting
 * needs root (CAP_SYS_ADMIN); `probeTmpfs()` tells whether this machine allows it, so the tests
 * that need one are skipped with the reason where it does not (the injected-fault variant of the
 * same tests runs everywhere). Every mount made here is unmounted by `unmount()`.
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, openSync, rmSync, writeSync, closeSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

function run(args: readonly string[]): void {
  execFileSync(args[0], args.slice(1), {stdio: 'pipe', timeout: 10_000})
}

const firstLine = (err: unknown): string => {
  const e = err as {stderr?: Buffer, message?: string}
  const text = e.stderr?.toString().trim() || e.message || String(err)
  return text.split('\n')[0]
}

/** Whether a tmpfs can be mounted here; the reason when not. */
export function probeTmpfs(): {ok: true} | {ok: false, reason: string} {
  if (process.platform !== 'linux') return {ok: false, reason: `mounting a tmpfs needs Linux (this is ${process.platform})`}
  const dir = mkdtempSync(join(tmpdir(), 'raftctl-tmpfs-probe-'))
  try {
    run(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir])
    run(['umount', dir])
    return {ok: true}
  } catch (err) {
    return {ok: false, reason: `cannot mount a tmpfs here (${firstLine(err)})`}
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

export class Tmpfs {
  readonly path: string
  private mounted = false
  private filler: string | undefined

  constructor(sizeMiB: number) {
    this.path = mkdtempSync(join(tmpdir(), 'raftctl-tmpfs-'))
    run(['mount', '-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', this.path])
    this.mounted = true
  }

  /** Changes the size (existing files stay). */
  resize(sizeMiB: number): void {
    run(['mount', '-o', `remount,size=${sizeMiB}m`, this.path])
  }

  /** Remounts read-only or read-write (only while no file is open for writing). */
  readOnly(ro: boolean): void {
    run(['mount', '-o', `remount,${ro ? 'ro' : 'rw'}`, this.path])
  }

  /** Fills every free byte with a file (removed by unfill()). */
  fill(): void {
    this.filler = join(this.path, 'filler')
    const fd = openSync(this.filler, 'w')
    const block = Buffer.alloc(64 << 10)
    try {
      for (let i = 0; i < 1 << 16; i++) writeSync(fd, block)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
    } finally {
      closeSync(fd)
    }
  }

  unfill(): void {
    if (this.filler !== undefined) rmSync(this.filler, {force: true})
    this.filler = undefined
  }

  /** Unmounts (after every process using it stopped) and removes the mount point. */
  unmount(): void {
    if (this.mounted) {
      try {
        run(['umount', this.path])
      } catch {
        run(['umount', '-l', this.path])
      }
      this.mounted = false
    }
    rmSync(this.path, {recursive: true, force: true})
  }
}
