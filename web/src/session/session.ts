// Who is signed in. The session itself is the `voc_session` cookie, which
// the browser keeps and sends; this module only asks `me` at start and
// after signing in, and forgets the user when the API says the session
// ended.
import { computed, reactive, readonly } from 'vue'
import type { VocClient } from '@/graphql/client'
import { errorMessage, isUnauthenticated } from '@/graphql/errors'
import type { Role } from '@/graphql/generated/graphql'
import { LoginMutation, LogoutMutation, MeQuery } from './operations'

export interface SessionUser {
  id: string
  name: string
  email: string
  role: Role
}

type Status = 'unknown' | 'signed-in' | 'signed-out'

const state = reactive({
  status: 'unknown' as Status,
  user: null as SessionUser | null,
  version: '',
  /** Why the user was sent to sign in, shown there once. */
  notice: '',
  /** Why `me` could not be asked (voc unreachable), when it could not. */
  error: '',
})

export const session = readonly(state)

const ROLE_RANK: Record<Role, number> = { VIEWER: 0, OPERATOR: 1, ADMIN: 2 }

/** Whether the signed-in user has at least `role`. */
export function hasRole(role: Role): boolean {
  return state.user !== null && ROLE_RANK[state.user.role] >= ROLE_RANK[role]
}

export const canOperate = computed(() => hasRole('OPERATOR'))

let client: VocClient | null = null
let loading: Promise<void> | null = null

export function bindSession(vocClient: VocClient): void {
  client = vocClient
}

function need(): VocClient {
  if (client === null) throw new Error('the session is used before the API client exists')
  return client
}

/**
 * Asks `me` once. When voc cannot be reached the status stays `unknown`
 * and `error` says why; calling again retries.
 */
export function loadSession(): Promise<void> {
  if (state.status !== 'unknown') return Promise.resolve()
  loading ??= need()
    .apollo.query({ query: MeQuery, fetchPolicy: 'network-only' })
    .then(({ data }) => {
      state.user = { ...data.me }
      state.version = data.version
      state.status = 'signed-in'
      state.error = ''
    })
    .catch((error: unknown) => {
      if (isUnauthenticated(error)) {
        state.user = null
        state.status = 'signed-out'
        state.error = ''
      } else {
        state.error = errorMessage(error)
      }
    })
    .finally(() => {
      loading = null
    })
  return loading
}

export async function signIn(username: string, password: string): Promise<void> {
  const c = need()
  const { data } = await c.apollo.mutate({ mutation: LoginMutation, variables: { username, password } })
  if (!data) throw new Error('voc did not answer the sign-in')
  await c.apollo.clearStore()
  c.subscriptions.restart()
  state.user = { ...data.login.user }
  state.status = 'signed-in'
  state.notice = ''
  const me = await c.apollo.query({ query: MeQuery, fetchPolicy: 'network-only' })
  state.version = me.data.version
}

export async function signOut(): Promise<void> {
  const c = need()
  try {
    await c.apollo.mutate({ mutation: LogoutMutation })
  } finally {
    forget('')
    await c.apollo.clearStore()
  }
}

/** The API said the session is gone (expired, or ended elsewhere). */
export function expire(): void {
  if (state.status === 'signed-out') return
  forget('Your session ended. Sign in again to continue.')
}

function forget(notice: string): void {
  state.user = null
  state.status = 'signed-out'
  state.notice = notice
  client?.subscriptions.restart()
}
