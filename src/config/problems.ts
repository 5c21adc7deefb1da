/**
 * The problems found in a configuration, kept by section so that stages
 * running one after another (the checks, then the secrets) still report in
 * the file's order: the source, each target, the watcher, the API, retries.
 */
export function createProblems (targetCount: number) {
  const sections = new Map<string, string[]>([
    ['source', []],
    ...Array.from({ length: targetCount }, (_, i): [string, string[]] => [targetSection(i), []]),
    ['mesh', []],
    ['watcher', []],
    ['api', []],
    ['retry', []],
  ])
  return {
    add (section: string, line: string): void {
      sections.get(section)!.push(line)
    },
    list (): string[] {
      return [...sections.values()].flat()
    },
  }
}

export type Problems = ReturnType<typeof createProblems>

export const targetSection = (i: number): string => `targets[${i}]`
