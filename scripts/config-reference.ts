import { readFileSync, writeFileSync } from 'node:fs'
import { renderConfigReference } from '../src/config/reference.js'

const DOC = new URL('../docs/configuration.md', import.meta.url)
const START = '<!-- config-reference:start -->\n'
const END = '<!-- config-reference:end -->'

const text = readFileSync(DOC, 'utf8')
const from = text.indexOf(START)
const to = text.indexOf(END)
if (from === -1 || to === -1) throw new Error('docs/configuration.md lacks the config-reference markers')
writeFileSync(DOC, text.slice(0, from + START.length) + renderConfigReference() + text.slice(to))
process.stdout.write('docs/configuration.md configuration reference updated\n')
