// The GraphQL playground at /graphiql: GraphiQL, bundled by voc's web build
// so that it works without internet access. Queries go to /graphql with the
// session cookie; subscriptions over the graphql-ws socket. Without a
// session it sends the user to sign in first.
import { createGraphiQLFetcher } from '@graphiql/toolkit'
import { GraphiQL } from 'graphiql'
import 'graphiql/setup-workers/vite'
import 'graphiql/style.css'
import { createClient } from 'graphql-ws'
import { createElement } from 'react'
import { createRoot } from 'react-dom/client'
import { subscriptionsUrl } from '../graphql/url'

const DEFAULT_QUERY = `# voc's GraphQL API, signed in as you.
# Press Ctrl+Enter to run a query; the Docs button lists everything.

query {
  me {
    name
    role
  }
  version
}
`

async function isSignedIn(): Promise<boolean> {
  const answer = await fetch('/graphql', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ me { name } }' }),
  })
  const body = (await answer.json()) as { errors?: { extensions?: { code?: string } }[] }
  return !body.errors?.some((e) => e.extensions?.code === 'UNAUTHENTICATED')
}

function showMessage(container: HTMLElement, html: string) {
  container.innerHTML = `<p>${html}</p>`
}

async function start(container: HTMLElement) {
  try {
    if (!(await isSignedIn())) {
      window.location.replace(`/sign-in?next=${encodeURIComponent('/graphiql')}`)
      return
    }
  } catch {
    showMessage(container, 'voc cannot be reached. <a href="/graphiql">Try again</a>.')
    return
  }
  const fetcher = createGraphiQLFetcher({
    url: '/graphql',
    fetch: (input, init) => fetch(input, { ...init, credentials: 'same-origin' }),
    wsClient: createClient({ url: subscriptionsUrl(window.location), lazy: true }),
  })
  createRoot(container).render(
    createElement(
      GraphiQL,
      { fetcher, defaultQuery: DEFAULT_QUERY },
      createElement(GraphiQL.Logo, null, createElement('a', { href: '/', title: 'Back to the dashboard' }, 'voc')),
    ),
  )
}

const container = document.getElementById('graphiql')
if (container === null) throw new Error('graphiql.html has no #graphiql element')
void start(container)
