// Keeps the stacks in Apollo's cache current while a screen shows them:
// status changes arrive whole (stackStatusChanged, merged into the cache by
// their key), and task events make voc re-read the one stack they are
// about, at most twice a second, to get its task counts.
import { useApolloClient, useSubscription } from '@vue/apollo-composable'
import { onBeforeUnmount } from 'vue'
import { coalesce } from '@/graphql/coalesce'
import { AllTaskEventsSubscription, StackStatusChangedSubscription, StackSummaryQuery } from './operations'

/** `onUnknownStack` runs when an event names a stack the list lacks. */
export function useLiveStacks(isKnown: (target: string, name: string) => boolean, onUnknownStack: () => void) {
  const { resolveClient } = useApolloClient()
  const refresh = coalesce((key) => {
    const [target, name] = JSON.parse(key) as [string, string]
    void resolveClient()
      .query({ query: StackSummaryQuery, variables: { name, target }, fetchPolicy: 'network-only' })
      .catch(() => onUnknownStack())
  }, 500)
  const reload = coalesce(() => onUnknownStack(), 1000)
  onBeforeUnmount(() => {
    refresh.cancel()
    reload.cancel()
  })

  const status = useSubscription(StackStatusChangedSubscription)
  status.onResult((result) => {
    const stack = result.data?.stackStatusChanged
    if (stack && !isKnown(stack.target, stack.name)) reload.request('all')
  })

  const tasks = useSubscription(AllTaskEventsSubscription)
  tasks.onResult((result) => {
    const event = result.data?.taskEvents
    if (!event) return
    if (isKnown(event.target, event.stack)) refresh.request(JSON.stringify([event.target, event.stack]))
    else reload.request('all')
  })

  return { statusError: status.error, tasksError: tasks.error }
}
