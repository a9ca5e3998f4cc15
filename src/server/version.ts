/**
 * raftctl's version, read once from package.json (two directories up from this file both in
 * src/server and in the built dist/server).
 */
import {readFileSync} from 'node:fs'

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {version?: unknown}
    return typeof pkg.version === 'string' ? pkg.version : 'unknown'
  } catch {
    return 'unknown'
  }
}

export const RAFTCTL_VERSION = readVersion()
