// Golden-file interaction tests (etcd-io/raft testdata/*.txt style): each file of ./testdata is a
// script of harness commands (see test/harness/interaction.ts) run against a fresh group, whose
// transcript — Readys, messages, role changes, configs — must match the file. REWRITE=1
// regenerates the expected output; every rewritten transcript must be reviewed by hand.
import {fileURLToPath} from 'node:url'
import {runDataDrivenFiles} from '../../harness/datadriven.js'
import {InteractionEnv} from '../../harness/interaction.js'

describe('interaction golden files', () => {
  runDataDrivenFiles(fileURLToPath(new URL('./testdata', import.meta.url)), () => {
    const env = new InteractionEnv()
    return (td) => env.handle(td)
  })
})
