/**
 * Lets a refetch fail quietly: the query's own `error` shows the failure
 * where it belongs, while an unhandled rejection would only reach the
 * console (and the browser's uncaught-error report).
 */
export function quiet(promise: Promise<unknown> | undefined): void {
  promise?.catch(() => {})
}
