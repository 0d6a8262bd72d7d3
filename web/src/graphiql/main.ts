// The GraphQL playground at /graphiql: GraphiQL, bundled by voc's web build
// so that it works without internet access. Queries go to /graphql with the
// session cookie; subscriptions over the graphql-ws socket.
import { createGraphiQLFetcher } from '@graphiql/toolkit'
import { GraphiQL } from 'graphiql'
import 'graphiql/setup-workers/vite'
import 'graphiql/style.css'
import { createClient } from 'graphql-ws'
import { createElement } from 'react'
import { createRoot } from 'react-dom/client'
import { subscriptionsUrl } from '../graphql/url'

const fetcher = createGraphiQLFetcher({
  url: '/graphql',
  fetch: (input, init) => fetch(input, { ...init, credentials: 'same-origin' }),
  wsClient: createClient({ url: subscriptionsUrl(window.location), lazy: true }),
})

const container = document.getElementById('graphiql')
if (container === null) throw new Error('graphiql.html has no #graphiql element')
createRoot(container).render(
  createElement(GraphiQL, {
    fetcher,
    defaultQuery: '# voc\'s GraphQL API, signed in as you.\n# Press Ctrl+Enter to run a query.\n\nquery {\n  me {\n    name\n    role\n  }\n  version\n}\n',
  }),
)
