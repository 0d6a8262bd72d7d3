import { graphql } from '@/graphql/generated'

export const JobSummaryFragment = graphql(`
  fragment JobSummary on Job {
    id
    kind
    subject
    target
    commit
    reason
    status
    error
    createdAt
    startedAt
    finishedAt
  }
`)

export const JobsQuery = graphql(`
  query Jobs($first: Int!, $after: ID, $stack: String, $image: String, $status: JobStatus, $kind: JobKind) {
    jobs(first: $first, after: $after, stack: $stack, image: $image, status: $status, kind: $kind) {
      nodes {
        ...JobSummary
      }
      endCursor
      hasNextPage
    }
  }
`)

export const JobQuery = graphql(`
  query Job($id: ID!) {
    job(id: $id) {
      ...JobSummary
      log {
        seq
        line
      }
    }
  }
`)

export const JobEventsSubscription = graphql(`
  subscription JobEvents($id: ID) {
    jobEvents(id: $id) {
      jobId
      status
      error
      seq
      line
    }
  }
`)
