/** ws(s)://<host>/graphql/ws: voc's subscriptions socket for the page at `location`. */
export function subscriptionsUrl(location: Pick<Location, 'protocol' | 'host'>): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
  return `${scheme}//${location.host}/graphql/ws`
}
