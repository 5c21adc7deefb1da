/** The engine's keys in the settings table. Stored by running services: never rename one. */
export const PAUSED_KEY = 'watch.paused'
/** `running` while a process runs; `stopped` after a clean shutdown that wrote the whole journal. */
export const LIFECYCLE_KEY = 'engine.lifecycle'
export const owedKey = (target: string): string => `target.${target}.fullOwedSeq`
export const holdKey = (target: string): string => `target.${target}.deletesHeld`
export const filesKey = (target: string): string => `target.${target}.files`
