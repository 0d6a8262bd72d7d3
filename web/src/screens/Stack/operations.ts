import { graphql } from '@/graphql/generated'

export const StackDetailQuery = graphql(`
  query StackDetail($name: String!, $target: String) {
    stack(name: $name, target: $target) {
      ...StackSummary
      selfHeal
      dependsOn
      options
      composeFile
      services {
        name
        fullName
        image
        mode
        replicas
        runningTasks
        updateState
        tasks {
          id
          slot
          node
          state
          desiredState
          message
          error
          image
          createdAt
          updatedAt
        }
      }
    }
  }
`)

export const StackComposeQuery = graphql(`
  query StackCompose($name: String!, $target: String) {
    stack(name: $name, target: $target) {
      name
      target
      composeFile
      desiredCommit
      composeText
    }
  }
`)

export const ServiceLogsSubscription = graphql(`
  subscription ServiceLogs($stack: String!, $service: String!, $target: String, $tail: Int) {
    serviceLogs(stack: $stack, service: $service, target: $target, tail: $tail) {
      at
      line
      stream
      taskId
    }
  }
`)

export const StackJobsQuery = graphql(`
  query StackJobs($stack: String!) {
    jobs(first: 25, stack: $stack) {
      nodes {
        ...JobSummary
        commitInfo {
          sha
          author
          message
        }
      }
      hasNextPage
    }
  }
`)

export const StackTaskEventsSubscription = graphql(`
  subscription StackTaskEvents($stack: String!) {
    taskEvents(stack: $stack) {
      target
      stack
      taskId
      state
    }
  }
`)

export const StackStatusSubscription = graphql(`
  subscription StackStatus($stack: String!) {
    stackStatusChanged(stack: $stack) {
      ...StackSummary
    }
  }
`)

export const StackChangeFragment = graphql(`
  fragment StackChangeFields on StackChange {
    stack
    commit
    created
    jobId
    warnings
  }
`)

export const RedeployStackMutation = graphql(`
  mutation RedeployStack($name: String!, $force: Boolean!) {
    redeployStack(name: $name, force: $force) {
      ...JobSummary
    }
  }
`)

export const SetStackEnabledMutation = graphql(`
  mutation SetStackEnabled($name: String!, $enabled: Boolean!, $message: String) {
    setStackEnabled(name: $name, enabled: $enabled, message: $message) {
      ...StackChangeFields
    }
  }
`)

export const StackUpgradeDiffQuery = graphql(`
  query StackUpgradeDiff($name: String!) {
    stackUpgradeDiff(name: $name)
  }
`)

export const UpgradeStackMutation = graphql(`
  mutation UpgradeStack($name: String!, $message: String) {
    upgradeStack(name: $name, message: $message) {
      ...StackChangeFields
    }
  }
`)

export const DeleteStackMutation = graphql(`
  mutation DeleteStack($name: String!, $message: String) {
    deleteStack(name: $name, message: $message) {
      ...StackChangeFields
    }
  }
`)

export const RollbackStackMutation = graphql(`
  mutation RollbackStack($name: String!, $commit: String!, $message: String) {
    rollbackStack(name: $name, commit: $commit, message: $message) {
      ...StackChangeFields
    }
  }
`)
