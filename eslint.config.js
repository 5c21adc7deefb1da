import neostandard from 'neostandard'

// One style for src/, test/, bench/ and scripts/: neostandard, as Fastify, pino and undici use.
export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'node_modules/**', 'openapi/**', 'examples/**'] }),
  {
    rules: {
      // `void promise` marks a deliberate fire-and-forget call; an expression is still refused.
      'no-void': ['error', { allowAsStatement: true }],
      // Loops on flags that timers, callbacks or other awaits set: the rule sees only the loop's own body.
      'no-unmodified-loop-condition': 'off',
    },
  },
]
