import {Command} from '@oclif/core'

/** The version data printed by `raftctl version` (and returned with --json). */
export interface VersionInfo {
  readonly name: string
  readonly version: string
  readonly node: string
  readonly platform: string
  readonly arch: string
}

export default class Version extends Command {
  static override summary = 'Print the raftctl version, the Node.js version and the platform.'
  static override description =
    'Prints one line such as "raftctl/0.1.0 linux-x64 node-v20.20.2". With --json, prints the same facts as an object.'
  static override examples = ['<%= config.bin %> version', '<%= config.bin %> version --json']
  static override enableJsonFlag = true

  public async run(): Promise<VersionInfo> {
    await this.parse(Version)
    const info: VersionInfo = {
      name: this.config.name,
      version: this.config.version,
      node: process.version,
      platform: process.platform,
      arch: process.arch,
    }
    this.log(`${info.name}/${info.version} ${info.platform}-${info.arch} node-${info.node}`)
    return info
  }
}
