// Live events come in bursts (a redeploy replaces every task at once):
// refreshing once per burst and per key is enough.

/**
 * Returns `request(key)`: runs `run(key)` after `waitMs`, once however
 * often `key` is requested meanwhile. `cancel()` drops what is pending.
 */
export function coalesce(run: (key: string) => unknown, waitMs: number) {
  const pending = new Map<string, ReturnType<typeof setTimeout>>()
  return {
    request(key: string): void {
      if (pending.has(key)) return
      pending.set(
        key,
        setTimeout(() => {
          pending.delete(key)
          run(key)
        }, waitMs),
      )
    },
    cancel(): void {
      for (const timer of pending.values()) clearTimeout(timer)
      pending.clear()
    },
  }
}
