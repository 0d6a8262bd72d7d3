import { graphql } from '@/graphql/generated'

export const StackSummaryFragment = graphql(`
  fragment StackSummary on Stack {
    target
    name
    enabled
    syncStatus
    syncReason
    health
    runningTasks
    desiredTasks
    deployedCommit
    desiredCommit
    definition {
      name
      version
    }
    lastDeploy {
      id
      status
      finishedAt
      error
    }
  }
`)

export const OverviewQuery = graphql(`
  query Overview {
    stacks {
      ...StackSummary
    }
    targets {
      name
      host
      reachable
      swarmManager
      lastError
    }
  }
`)

export const StackSummaryQuery = graphql(`
  query StackSummary($name: String!, $target: String) {
    stack(name: $name, target: $target) {
      ...StackSummary
    }
  }
`)

export const StackStatusChangedSubscription = graphql(`
  subscription StackStatusChanged {
    stackStatusChanged {
      ...StackSummary
    }
  }
`)

export const AllTaskEventsSubscription = graphql(`
  subscription AllTaskEvents {
    taskEvents {
      target
      stack
      service
      taskId
      state
    }
  }
`)
