#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { readFileSync } from 'node:fs'
import { serve } from './server.js'

const USAGE = `Usage: syncplane <command> [options]

Commands:
  serve [--config FILE]   run the service (without --config: a demo that
                          replicates ./data/source to ./data/replica)

Options:
  -h, --help              show this help
  -v, --version           print the version
`

function version (): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

async function main (argv: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    })
  } catch (err) {
    process.stderr.write(`syncplane: ${(err as Error).message}\n\n${USAGE}`)
    return 2
  }
  const { values, positionals } = parsed
  if (values.version) {
    process.stdout.write(`${version()}\n`)
    return 0
  }
  const [command, ...rest] = positionals
  if (values.help || command === undefined) {
    process.stdout.write(USAGE)
    return command === undefined && !values.help ? 2 : 0
  }
  if (command === 'serve' && rest.length === 0) {
    await serve({ configPath: values.config })
    return -1
  }
  process.stderr.write(`syncplane: unknown command "${positionals.join(' ')}"\n\n${USAGE}`)
  return 2
}

main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exitCode = code
}, (err: unknown) => {
  process.stderr.write(`syncplane: ${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
})
