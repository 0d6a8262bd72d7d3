// The WebSocket that carries subscriptions (graphql-transport-ws at
// /graphql/ws). The server reads the session cookie once, when the socket
// opens, so the socket is restarted after signing in or out.
import { ApolloLink, Observable, type FetchResult, type Operation } from '@apollo/client/core'
import { print } from 'graphql'
import { createClient, type Client } from 'graphql-ws'
import { ref } from 'vue'

/** Whether live updates currently arrive. */
export type LiveState = 'idle' | 'connecting' | 'connected' | 'reconnecting'

/** The state of the subscriptions socket, for a "live" indicator. */
export const liveState = ref<LiveState>('idle')

/** Waits longer after each failed attempt: 1 s, 2 s, 4 s … up to 15 s. */
function retryWait(retries: number): Promise<void> {
  const ms = Math.min(15_000, 1000 * 2 ** retries) * (0.75 + Math.random() / 2)
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function isCloseEvent(value: unknown): value is { code: number; reason: string } {
  return typeof value === 'object' && value !== null && 'code' in value && 'reason' in value
}

export class SubscriptionLink extends ApolloLink {
  private client: Client | null = null

  /**
   * `onReconnected` runs when the socket comes back after it was lost:
   * events sent meanwhile are gone, so what the page shows is read again.
   */
  constructor(
    private readonly url: () => string,
    private readonly onReconnected: () => void = () => {},
  ) {
    super()
  }

  private current(): Client {
    if (this.client === null) {
      const client = createClient({
        url: this.url(),
        lazy: true,
        lazyCloseTimeout: 3000,
        retryAttempts: Number.POSITIVE_INFINITY,
        shouldRetry: () => true,
        retryWait,
        on: {
          connecting: (isRetry) => {
            if (this.client === client) liveState.value = isRetry ? 'reconnecting' : 'connecting'
          },
          connected: () => {
            if (this.client !== client) return
            const wasLost = liveState.value === 'reconnecting'
            liveState.value = 'connected'
            if (wasLost) this.onReconnected()
          },
          closed: () => {
            if (this.client === client) liveState.value = 'idle'
          },
        },
      })
      this.client = client
    }
    return this.client
  }

  /** Closes the socket; the next subscription opens a new one. */
  restart(): void {
    const old = this.client
    this.client = null
    liveState.value = 'idle'
    void old?.dispose()
  }

  override request(operation: Operation): Observable<FetchResult> {
    return new Observable((sink) =>
      this.current().subscribe(
        {
          query: print(operation.query),
          variables: operation.variables,
          operationName: operation.operationName,
          extensions: operation.extensions,
        },
        {
          next: (value) => sink.next(value as FetchResult),
          complete: () => sink.complete(),
          error: (error) => {
            if (error instanceof Error) sink.error(error)
            else if (isCloseEvent(error)) {
              const reason = error.reason ? `: ${error.reason}` : ''
              sink.error(new Error(`the live connection closed (${error.code}${reason})`))
            } else if (Array.isArray(error)) {
              sink.next({ errors: error } as FetchResult)
              sink.complete()
            } else sink.error(new Error('the live connection failed'))
          },
        },
      ),
    )
  }
}
