import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { makeTempDir } from '../helpers/temp-dir.js'
import { runCommand } from '../helpers/run-command.js'
import { spawnService } from '../helpers/service-process.js'
import { startTarget } from '../helpers/targets.js'

const SCRIPT = fileURLToPath(new URL('../../examples/ci/resync-after-deploy.sh', import.meta.url))
const TOKEN = 'ci-token-0123456789abcdef'

const curl = (): string | undefined => {
  try {
    return execFileSync('sh', ['-c', 'command -v curl'], { encoding: 'utf8' }).trim() || undefined
  } catch {
    return undefined
  }
}

test('examples/ci/resync-after-deploy.sh against a service that requires a token', { skip: curl() === undefined ? 'curl is not installed (apt-get install curl)' : false }, async (t) => {
  const tmp = await makeTempDir(t)
  const target = await startTarget(tmp, 'local', 'backup')
  const source = path.join(tmp.path, 'source')
  const svc = await spawnService(tmp, {
    config: { source, fullSync: { onStart: false, intervalSec: 0 }, targets: [target.config] },
    env: { SYNCPLANE_API_TOKEN: TOKEN },
  })
  await svc.waitReady()
  await writeFile(path.join(source, 'deployed.txt'), 'release 42\n')

  // curl as the script calls it, its arguments logged: the token must never be one (ps shows them).
  const bin = path.join(tmp.path, 'bin')
  const argvLog = path.join(tmp.path, 'curl-argv.log')
  await mkdir(bin)
  await writeFile(path.join(bin, 'curl'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${argvLog}'\nexec '${curl()}' "$@"\n`)
  await chmod(path.join(bin, 'curl'), 0o755)
  const tokenFile = path.join(tmp.path, 'api-token')
  await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 })
  const env = (extra: Record<string, string>) => ({ PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, TMPDIR: tmp.path, SYNCPLANE_URL: svc.url, SYNCPLANE_TIMEOUT: '60', ...extra })

  const without = await runCommand('sh', [SCRIPT], { env: env({}) })
  assert.equal(without.code, 1, without.stderr)
  assert.match(without.stderr, /the API wants a valid token: set SYNCPLANE_API_TOKEN/)
  const wrong = await runCommand('sh', [SCRIPT], { env: env({ SYNCPLANE_API_TOKEN: 'not-the-token-of-this-service' }) })
  assert.equal(wrong.code, 1, wrong.stderr)
  assert.match(wrong.stdout, /401 Unauthorized: the bearer token is not valid/)

  const ok = await runCommand('sh', [SCRIPT], { env: env({ SYNCPLANE_API_TOKEN: TOKEN, SYNCPLANE_TARGETS: 'backup' }) })
  assert.equal(ok.code, 0, `${ok.stdout}\n${ok.stderr}`)
  assert.match(ok.stdout, /^backup\tjob \d+\tsucceeded\t/m)
  assert.match(ok.stderr, /resync: all targets mirrored/)
  assert.equal(await readFile(path.join(target.dir, 'deployed.txt'), 'utf8'), 'release 42\n')

  // The SSH variant of the examples: the script on stdin, the token from the service's own file.
  const overSsh = await runCommand('sh', ['-s'], { env: env({ SYNCPLANE_API_TOKEN_FILE: tokenFile }), input: readFileSync(SCRIPT) })
  assert.equal(overSsh.code, 0, `${overSsh.stdout}\n${overSsh.stderr}`)
  assert.match(overSsh.stdout, /^backup\tjob \d+\tsucceeded\t/m)

  const argv = await readFile(argvLog, 'utf8')
  assert.equal(argv.trim().split('\n').length, 4, argv)
  assert.ok(!argv.includes(TOKEN), `the token reached curl's command line:\n${argv}`)
})

test('the CI examples give the script a token, from a secret or from the service\'s token file', () => {
  const github = parse(readFileSync(new URL('../../examples/ci/github-actions.yml', import.meta.url), 'utf8')) as { jobs: Record<string, { steps: Array<{ run?: string, env?: Record<string, string> }> }> }
  const githubRuns = Object.values(github.jobs).flatMap((job) => job.steps).filter((s) => s.run?.includes('resync-after-deploy.sh'))
  const gitlab = parse(readFileSync(new URL('../../examples/ci/gitlab-ci.yml', import.meta.url), 'utf8')) as Record<string, { script?: string[], variables?: Record<string, string> }>
  const gitlabRuns = Object.values(gitlab).filter((job) => job.script?.some((line) => line.includes('resync-after-deploy.sh')))
  assert.equal(githubRuns.length, 2)
  assert.equal(gitlabRuns.length, 2)
  for (const step of githubRuns) {
    assert.ok(/^\$\{\{ secrets\.SYNCPLANE_API_TOKEN \}\}$/.test(step.env?.SYNCPLANE_API_TOKEN ?? '') || step.run!.includes('SYNCPLANE_API_TOKEN_FILE='), step.run)
  }
  // GitLab hands every CI/CD variable (SYNCPLANE_API_TOKEN among them) to the job; over SSH the server's file is used.
  const sshJob = gitlabRuns.find((job) => job.script!.some((line) => line.startsWith('ssh ')))
  assert.ok(sshJob?.script!.some((line) => line.includes('SYNCPLANE_API_TOKEN_FILE=')))
  const texts = ['github-actions.yml', 'gitlab-ci.yml', 'resync-after-deploy.sh'].map((f) => readFileSync(new URL(`../../examples/ci/${f}`, import.meta.url), 'utf8'))
  for (const text of texts) assert.doesNotMatch(text, /no authentication/)
})
