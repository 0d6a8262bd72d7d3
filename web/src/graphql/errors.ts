// Turning what the API answers when something fails into sentences for
// people, and reading the machine parts (`extensions.code`,
// `extensions.problems`) that screens act on.
import type { GraphQLFormattedError } from 'graphql'

/** One thing wrong with an input, as the API reports it. */
export interface ApiProblem {
  field?: string | null
  file?: string | null
  line?: number | null
  message: string
}

interface ErrorLike {
  message?: string
  graphQLErrors?: readonly GraphQLFormattedError[]
  networkError?: (Error & { statusCode?: number; result?: unknown }) | null
}

function asErrorLike(error: unknown): ErrorLike {
  return typeof error === 'object' && error !== null ? (error as ErrorLike) : {}
}

/**
 * The API's messages are lowercase without a final period (they read well
 * in logs); on a page they become sentences.
 */
export function sentence(text: string): string {
  const trimmed = text.trim()
  if (trimmed === '') return trimmed
  const first = trimmed.charAt(0).toUpperCase() + trimmed.slice(1)
  return /[.!?…]$/.test(first) ? first : `${first}.`
}

/** The `extensions.code` of the first GraphQL error, if any. */
export function errorCode(error: unknown): string | undefined {
  const code = asErrorLike(error).graphQLErrors?.[0]?.extensions?.code
  return typeof code === 'string' ? code : undefined
}

/** True when the API said the caller is not signed in. */
export function isUnauthenticated(error: unknown): boolean {
  const e = asErrorLike(error)
  if (e.graphQLErrors?.some((g) => g.extensions?.code === 'UNAUTHENTICATED')) return true
  return e.networkError?.statusCode === 401
}

/** The validation problems of a `VALIDATION` error. */
export function errorProblems(error: unknown): ApiProblem[] {
  const problems: ApiProblem[] = []
  for (const g of asErrorLike(error).graphQLErrors ?? []) {
    const list = g.extensions?.problems
    if (Array.isArray(list)) {
      for (const p of list) {
        if (p && typeof p === 'object' && typeof (p as ApiProblem).message === 'string') {
          problems.push(p as ApiProblem)
        }
      }
    }
  }
  return problems
}

/** What went wrong, as one or more sentences for people. */
export function errorMessage(error: unknown): string {
  const e = asErrorLike(error)
  if (e.graphQLErrors && e.graphQLErrors.length > 0) {
    return e.graphQLErrors.map((g) => sentence(g.message)).join(' ')
  }
  if (e.networkError) {
    const status = e.networkError.statusCode
    if (status === 413) return 'The request is too large for voc.'
    if (status !== undefined && status >= 500) {
      return `voc answered with an error (HTTP ${status}). Try again in a moment.`
    }
    if (status !== undefined) return `voc refused the request (HTTP ${status}).`
    return 'voc cannot be reached. Check your connection; the page retries when you act again.'
  }
  if (error instanceof Error) return sentence(error.message)
  if (typeof e.message === 'string') return sentence(e.message)
  return 'Something went wrong.'
}
