// The routes. Every screen is its own chunk, loaded when first visited.
// History mode: voc serves index.html for any path it does not know, so
// deep links and reloads work.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { loadSession, session } from '@/session/session'

declare module 'vue-router' {
  interface RouteMeta {
    /** The page title (after "voc · "). */
    title: string
    /** Reachable without signing in. */
    public?: boolean
  }
}

export const routes: RouteRecordRaw[] = [
  {
    path: '/sign-in',
    name: 'sign-in',
    component: () => import('@/screens/SignIn/SignInScreen.vue'),
    meta: { title: 'Sign in', public: true },
  },
  {
    path: '/',
    name: 'overview',
    component: () => import('@/screens/Overview/OverviewScreen.vue'),
    meta: { title: 'Stacks' },
  },
  {
    path: '/stacks/new',
    name: 'new-stack',
    component: () => import('@/screens/NewStack/NewStackScreen.vue'),
    meta: { title: 'New stack' },
  },
  {
    path: '/stacks/:name',
    name: 'stack',
    component: () => import('@/screens/Stack/StackScreen.vue'),
    props: true,
    meta: { title: 'Stack' },
  },
  {
    path: '/stacks/:name/edit',
    name: 'edit-stack',
    component: () => import('@/screens/EditStack/EditStackScreen.vue'),
    props: true,
    meta: { title: 'Edit stack' },
  },
  {
    path: '/images',
    name: 'images',
    component: () => import('@/screens/Images/ImagesScreen.vue'),
    meta: { title: 'Images' },
  },
  {
    path: '/jobs',
    name: 'jobs',
    component: () => import('@/screens/Jobs/JobsScreen.vue'),
    meta: { title: 'Jobs' },
  },
  {
    path: '/jobs/:id',
    name: 'job',
    component: () => import('@/screens/Jobs/JobScreen.vue'),
    props: true,
    meta: { title: 'Job' },
  },
  {
    path: '/repository',
    name: 'repository',
    component: () => import('@/screens/Repository/RepositoryScreen.vue'),
    meta: { title: 'Repository' },
  },
  {
    path: '/tokens',
    name: 'tokens',
    component: () => import('@/screens/Tokens/TokensScreen.vue'),
    meta: { title: 'API tokens' },
  },
  {
    path: '/users',
    name: 'users',
    component: () => import('@/screens/Users/UsersScreen.vue'),
    meta: { title: 'Users' },
  },
  {
    path: '/:missing(.*)*',
    name: 'not-found',
    component: () => import('@/screens/NotFound/NotFoundScreen.vue'),
    meta: { title: 'Not found' },
  },
]

export function createVocRouter() {
  const router = createRouter({
    history: createWebHistory(),
    routes,
    scrollBehavior: (_to, _from, saved) => saved ?? { top: 0 },
  })

  router.beforeEach(async (to) => {
    await loadSession()
    if (to.meta.public) {
      if (to.name === 'sign-in' && session.status === 'signed-in') {
        const next = typeof to.query.next === 'string' && to.query.next.startsWith('/') ? to.query.next : '/'
        if (router.resolve(next).name !== 'not-found') return next
        window.location.assign(next)
        return false
      }
      return true
    }
    if (session.status !== 'signed-in') {
      return { name: 'sign-in', query: to.fullPath === '/' ? {} : { next: to.fullPath } }
    }
    return true
  })

  router.afterEach((to) => {
    const name = typeof to.params.name === 'string' ? `${to.params.name} · ` : ''
    document.title = `${name}${to.meta.title} · voc`
  })

  return router
}
