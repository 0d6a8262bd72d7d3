import { graphql } from '@/graphql/generated'

export const RepositoryQuery = graphql(`
  query Repository {
    repository {
      url
      branch
      head {
        sha
        shortSha
        message
        author
        date
      }
      lastFetchAt
      lastError
      targets {
        target
        lastAppliedCommit
        lastAppliedAt
        lastError
        reconciling
      }
    }
  }
`)

export const PlanQuery = graphql(`
  query Plan($target: String!) {
    plan(target: $target) {
      target
      from
      to
      scope
      dryRun
      actions {
        id
        kind
        subject
        target
        reasons
        needs
      }
      skipped {
        kind
        name
        reason
      }
      problems {
        file
        line
        message
      }
    }
  }
`)

export const SyncNowMutation = graphql(`
  mutation SyncNow {
    syncNow
  }
`)
