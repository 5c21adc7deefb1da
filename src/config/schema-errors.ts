import type { Validator } from 'typebox/compile'

/** One line per schema violation, naming the key as the YAML spells it. */
export function schemaProblems (validator: Pick<Validator, 'Errors'>, value: unknown): string[] {
  const seen = new Set<string>()
  const problems: Array<{ key: string, line: string, keyword: string }> = []
  const unions = new Set<string>()
  for (const error of validator.Errors(value)) {
    const key = pointerToKey(error.instancePath)
    let message: string
    if (error.keyword === 'anyOf') {
      unions.add(key)
      continue
    }
    if (error.keyword === 'boolean') message = 'unknown key'
    else if (error.keyword === 'additionalProperties') continue
    else if (error.keyword === 'required') {
      const missing = (error.params as { requiredProperties?: string[] }).requiredProperties ?? []
      for (const name of missing) add(key ? `${key}.${name}` : name, 'is required')
      continue
    } else if (error.keyword === 'enum') {
      message = `must be one of: ${((error.params as { allowedValues?: unknown[] }).allowedValues ?? []).join(', ')}`
    } else message = error.message
    add(key || '(root)', message, error.keyword)
  }
  // `source` is a path or a mapping: say which problem the given form has, not what each form wanted.
  for (const key of unions) {
    const own = problems.filter((p) => !(p.key === key && p.keyword === 'type'))
    if (!own.some((p) => p.key === key || p.key.startsWith(`${key}.`))) own.push({ key, line: `${key}: must be a path or a mapping with path (and marker)`, keyword: 'anyOf' })
    problems.splice(0, problems.length, ...own)
  }
  return problems.map((p) => p.line)

  function add (key: string, message: string, keyword = ''): void {
    const line = `${key}: ${message}`
    if (!seen.has(line)) {
      seen.add(line)
      problems.push({ key, line, keyword })
    }
  }
}

/** `/targets/0/url` → `targets[0].url`: the spelling an operator searches the YAML for. */
export function pointerToKey (pointer: string): string {
  return pointer.split('/').slice(1).reduce((acc, part) => {
    const name = part.replace(/~1/g, '/').replace(/~0/g, '~')
    return /^\d+$/.test(name) ? `${acc}[${name}]` : acc ? `${acc}.${name}` : name
  }, '')
}
