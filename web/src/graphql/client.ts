// The Apollo client: queries and mutations over HTTP (POST /graphql with
// the session cookie), subscriptions over the WebSocket of `live.ts`.
import { ApolloClient, HttpLink, InMemoryCache, from, setLogVerbosity, split } from '@apollo/client/core'
import { onError } from '@apollo/client/link/error'
import { getMainDefinition } from '@apollo/client/utilities'
import { isUnauthenticated } from './errors'
import { SubscriptionLink } from './live'
import { subscriptionsUrl } from './url'

export interface VocClient {
  apollo: ApolloClient<unknown>
  subscriptions: SubscriptionLink
}

// @vue/apollo-composable 4.2 calls ObservableQuery.getLastResult, which
// Apollo 3.14 warns about on every query; the warning is not actionable here.
setLogVerbosity('error')

/** `onUnauthenticated` runs when any answer says the session is gone. */
export function createVocClient(onUnauthenticated: () => void): VocClient {
  const http = new HttpLink({ uri: '/graphql', credentials: 'same-origin' })
  const subscriptions = new SubscriptionLink(
    () => subscriptionsUrl(window.location),
    () => void apollo.reFetchObservableQueries(),
  )
  const expired = onError(({ graphQLErrors, networkError, operation }) => {
    if (operation.operationName === 'Me' || operation.operationName === 'Login') return
    if (isUnauthenticated({ graphQLErrors, networkError })) onUnauthenticated()
  })
  const transport = split(
    ({ query }) => {
      const definition = getMainDefinition(query)
      return definition.kind === 'OperationDefinition' && definition.operation === 'subscription'
    },
    subscriptions,
    http,
  )
  const cache = new InMemoryCache({
    typePolicies: {
      // A stack is one per (target, name); every query selects both.
      Stack: { keyFields: ['target', 'name'] },
      Service: { keyFields: false },
      Task: { keyFields: ['id'] },
      StackDefinition: { keyFields: ['name'] },
      Image: { keyFields: ['name'] },
      Target: { keyFields: ['name'] },
    },
  })
  const apollo = new ApolloClient({
    link: from([expired, transport]),
    cache,
    defaultOptions: {
      watchQuery: { fetchPolicy: 'cache-and-network', errorPolicy: 'none' },
    },
  })
  return { apollo, subscriptions }
}
