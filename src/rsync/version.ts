import { execa } from 'execa'
import { RsyncUnavailableError } from '../errors.js'

/** `--delete-missing-args` and `--modify-window=-1` behave as we rely on from 3.2.3 on. */
const MINIMUM = [3, 2, 3] as const

export { RsyncUnavailableError }

export async function probeRsync (binary: string): Promise<string> {
  const result = await execa(binary, ['--version'], { reject: false, timeout: 10_000 })
  if (result.failed && result.exitCode === undefined) {
    throw new RsyncUnavailableError(`cannot run rsync ("${binary}"): ${result.originalMessage ?? result.shortMessage}. Install it (Debian/Ubuntu: apt-get install rsync) or set rsync.binary`)
  }
  const m = /rsync\s+version\s+v?(\d+)\.(\d+)\.(\d+)/.exec(String(result.stdout))
  if (!m) throw new RsyncUnavailableError(`"${binary} --version" did not print an rsync version`)
  const version = [Number(m[1]), Number(m[2]), Number(m[3])]
  for (let i = 0; i < 3; i++) {
    if (version[i]! > MINIMUM[i]!) break
    if (version[i]! < MINIMUM[i]!) {
      throw new RsyncUnavailableError(`rsync ${version.join('.')} is too old; syncplane needs ${MINIMUM.join('.')} or newer`)
    }
  }
  return version.join('.')
}
