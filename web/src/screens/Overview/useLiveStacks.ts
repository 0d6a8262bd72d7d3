// Keeps the stacks in Apollo's cache current while a screen shows them:
// status changes arrive whole (stackStatusChanged, merged into the cache by
// their key), and task events make voc re-read the stacks they are about,
// gathered over 600 ms: a few stacks one by one, more (a redeploy of many
// stacks) as one read of the whole list.
import { useApolloClient, useSubscription } from '@vue/apollo-composable'
import { onBeforeUnmount } from 'vue'
import { AllTaskEventsSubscription, StackStatusChangedSubscription, StackSummaryQuery } from './operations'

const GATHER_MS = 600
const MAX_SINGLE_READS = 5

/** `reloadAll` re-reads the whole list (a stack it lacks, or many changes). */
export function useLiveStacks(isKnown: (target: string, name: string) => boolean, reloadAll: () => void) {
  const { resolveClient } = useApolloClient()
  const pending = new Map<string, { target: string; name: string }>()
  let whole = false
  let timer: ReturnType<typeof setTimeout> | undefined

  function flush() {
    timer = undefined
    const stacks = [...pending.values()]
    pending.clear()
    if (whole || stacks.length > MAX_SINGLE_READS) {
      whole = false
      reloadAll()
      return
    }
    const client = resolveClient()
    for (const { target, name } of stacks) {
      void client
        .query({ query: StackSummaryQuery, variables: { name, target }, fetchPolicy: 'network-only' })
        .catch(() => reloadAll())
    }
  }

  function request(target: string, name: string | null) {
    if (name === null || !isKnown(target, name)) whole = true
    else pending.set(`${target}\u0000${name}`, { target, name })
    timer ??= setTimeout(flush, GATHER_MS)
  }
  onBeforeUnmount(() => clearTimeout(timer))

  const status = useSubscription(StackStatusChangedSubscription)
  status.onResult((result) => {
    const stack = result.data?.stackStatusChanged
    if (stack && !isKnown(stack.target, stack.name)) request(stack.target, null)
  })

  const tasks = useSubscription(AllTaskEventsSubscription)
  tasks.onResult((result) => {
    const event = result.data?.taskEvents
    if (event) request(event.target, event.stack)
  })

  // A subscription that fell behind (or lost its socket) ends with an
  // error: read everything again and subscribe anew.
  const restarts: ReturnType<typeof setTimeout>[] = []
  for (const sub of [status, tasks]) {
    sub.onError(() => {
      reloadAll()
      restarts.push(setTimeout(() => sub.restart(), 3000))
    })
  }
  onBeforeUnmount(() => restarts.forEach(clearTimeout))

  return { statusError: status.error, tasksError: tasks.error }
}
