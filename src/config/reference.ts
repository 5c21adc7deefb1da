import { ConfigSchema } from './schema.js'

interface SchemaNode {
  type?: string
  enum?: unknown[]
  properties?: Record<string, SchemaNode>
  required?: string[]
  items?: SchemaNode
  default?: unknown
  description?: string
  minimum?: number
  maximum?: number
  anyOf?: SchemaNode[]
}

/**
 * The README's configuration table, generated from the one schema so the
 * documentation cannot drift from what the loader accepts.
 */
export function renderConfigReference (): string {
  const rows = ['| Key | Type | Default | Meaning |', '|---|---|---|---|']
  walk(ConfigSchema as unknown as SchemaNode, '', rows)
  return `${rows.join('\n')}\n`
}

function walk (node: SchemaNode, prefix: string, rows: string[]): void {
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const key = prefix + name
    const required = node.required?.includes(name) ?? false
    if (child.type === 'object') {
      walk(child, `${key}.`, rows)
      continue
    }
    if (child.anyOf !== undefined) {
      // `source: PATH` or `source: { path, marker }`: one row, then the long form's keys.
      rows.push(`| \`${key}\` | ${child.anyOf.map(typeOf).join(' \\| ')} | ${defaultOf(child, required)} | ${(child.description ?? '').replace(/\|/g, '\\|')} |`)
      for (const variant of child.anyOf) if (variant.type === 'object') walk(variant, `${key}.`, rows)
      continue
    }
    rows.push(`| \`${key}\` | ${typeOf(child)} | ${defaultOf(child, required)} | ${(child.description ?? '').replace(/\|/g, '\\|')} |`)
    if (child.type === 'array' && child.items?.type === 'object') walk(child.items, `${key}[].`, rows)
  }
}

function typeOf (node: SchemaNode): string {
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(' \\| ')
  if (node.type === 'array') return `${node.items?.type === 'object' ? 'list' : `${node.items?.type ?? 'any'}[]`}`
  if (node.type === 'integer' || node.type === 'number') {
    const range = node.minimum !== undefined && node.maximum !== undefined
      ? ` ${node.minimum}–${node.maximum}`
      : node.minimum !== undefined ? ` ≥ ${node.minimum}` : ''
    return `${node.type}${range}`
  }
  return node.type ?? 'any'
}

function defaultOf (node: SchemaNode, required: boolean): string {
  if (node.default !== undefined) return `\`${JSON.stringify(node.default)}\``
  return required ? 'required' : '—'
}
