/**
 * The interactive form of `raftctl kv txn` (a terminal only): the operator types compares, then
 * the operations to run when they all hold, then those to run otherwise, one per line, an empty
 * line ending each list. Every line is parsed as it is typed and a bad one is asked again.
 * Callers check isInteractive() first; this module never reads a stdin that is not a terminal.
 */
import {input} from '@inquirer/prompts'
import type {Compare, RequestOp} from '../generated/etcd/etcdserverpb/kv.js'
import {parseCompare, parseOp} from './kv_txn.js'

/** Asks for lines until an empty one; each must parse with `parse`. */
async function askList<T>(label: string, example: string, parse: (s: string) => T): Promise<T[]> {
  const out: T[] = []
  for (;;) {
    const line = await input({
      message: `${label} ${out.length + 1} (e.g. ${example}; empty line to finish):`,
      // A rejected line is cleared (the error quotes it), so the operator retypes it whole.
      theme: {validationFailureMode: 'clear'},
      validate: (s) => {
        if (s.trim() === '') return true
        try {
          parse(s)
          return true
        } catch (err) {
          return (err as Error).message
        }
      },
    })
    if (line.trim() === '') return out
    out.push(parse(line))
  }
}

/** Prompts for a whole transaction; Ctrl-C (or the terminal closing) cancels it with one line. */
export async function promptTxn(): Promise<{compare: Compare[], success: RequestOp[], failure: RequestOp[]}> {
  try {
    const compare = await askList('compare', 'value(k) = v', parseCompare)
    const success = await askList('success operation', 'put k v', parseOp)
    const failure = await askList('failure operation', 'get k', parseOp)
    return {compare, success, failure}
  } catch (err) {
    if ((err as Error).name === 'ExitPromptError' || (err as Error).name === 'AbortPromptError') {
      throw new Error('kv txn cancelled at the prompt; nothing was sent')
    }
    throw err
  }
}
