export interface BackoffOptions {
  initialDelayMs: number
  maxDelayMs: number
  /** 0..1: the share of the delay that is randomised. */
  jitter: number
}

/** Capped exponential backoff with jitter, for the n-th consecutive failure (n ≥ 1). */
export function retryDelayMs (failures: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.min(opts.maxDelayMs, opts.initialDelayMs * 2 ** Math.max(0, failures - 1))
  const spread = exp * opts.jitter
  return Math.max(0, Math.round(exp - spread + random() * 2 * spread))
}
