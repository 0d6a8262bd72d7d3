// The dashboard end to end, in Debian's Chromium, against a real `voc
// serve` (the binary in $VOC_BIN, which embeds web/dist), the real Docker
// engine and a real git remote (issue 5, "Tests"):
//
// sign in (the session survives a reload, sign out); a value out of bounds
// shown at its field; a stack created from a definition through the form,
// followed until it runs; an option changed (the diff shown, then the
// service changes); a roll back from the stack's history; a task killed by
// hand shown failed and then replaced, live; a service's logs streaming;
// the main screens saved as screenshots, desktop and phone; a delete
// confirmed by typing the name; no uncaught error in the page throughout.
//
// The tests run in order and share one server, one browser page and one
// stack (each step starts from what the one before left). Every stack made
// here is named uniquely and removed at the end, even when a test fails.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import {
  PHONE,
  bareRepoWith,
  docker,
  gitIn,
  inspectService,
  launchBrowser,
  newContext,
  removeStacks,
  runningReplicas,
  screenshotsDir,
  signIn,
  stackLeftovers,
  startVoc,
  tempDir,
  uniqueName,
  waitFor,
  type Voc,
} from './harness'

// A definition that deploys in seconds here: busybox sleeping (its `sleep`
// ignores SIGTERM, hence the short grace period).
const SLEEPER_DEFINITION = {
  title: 'Sleeper',
  description: 'A busybox that sleeps: small enough to deploy in seconds.',
  version: '1.0.0',
  options: {
    type: 'object',
    required: ['password'],
    properties: {
      replicas: { type: 'integer', title: 'Replicas', minimum: 1, maximum: 3, default: 1, description: 'How many tasks run.' },
      greeting: { type: 'string', title: 'Greeting', default: 'hello', description: 'Set as GREETING in the environment.' },
      password: { type: 'string', title: 'Password', writeOnly: true, description: 'Set as PASSWORD; stored encrypted.' },
    },
  },
}
const SLEEPER_TEMPLATE = `services:
  app:
    image: voc-test/busybox:latest
    command: ["sh", "-c", "echo started by the dashboard tests; exec sleep 3600"]
    environment:
      GREETING: {{ options.greeting }}
      PASSWORD: {{ options.password }}
    stop_grace_period: 1s
    deploy:
      replicas: {{ options.replicas }}
`
const SLEEPER_README = `# Sleeper

A busybox container that says it started, then runs \`sleep 3600\`, replicated.

| option | meaning |
|---|---|
| \`replicas\` | 1 to 3 |
| \`greeting\` | \`GREETING\` in its environment |
| \`password\` | a secret, \`PASSWORD\` in its environment |
`

/** Long enough for a deploy on a loaded 2-core machine. */
const DEPLOY_MS = 240_000

let dir: ReturnType<typeof tempDir>
let bare: string
let voc: Voc
let browser: Browser
let context: BrowserContext
let page: Page
/** Every stack a test made, removed in afterAll. */
const made = new Set<string>()
/** Uncaught errors of the dashboard's JavaScript, seen by the browser. */
const pageErrors: string[] = []

const stack = uniqueName('e2e')
const service = `${stack}_app`
let createdCommit = ''
/** Set when the create test saw the stack run: the tests after it need it. */
let running = false

const failuresDir = join(import.meta.dirname, '..', 'e2e-results')

beforeAll(async () => {
  dir = tempDir('voc-web-e2e-')
  bare = await bareRepoWith(dir.path, {
    'README.md': 'The conf repo of the dashboard tests.\n',
    'definitions/sleeper/definition.json': JSON.stringify(SLEEPER_DEFINITION, null, 2) + '\n',
    'definitions/sleeper/docker-compose.yml.tera': SLEEPER_TEMPLATE,
    'definitions/sleeper/README.md': SLEEPER_README,
  })
  voc = await startVoc(dir.path, bare)
  browser = await launchBrowser()
  context = await newContext(browser)
  page = await context.newPage()
  page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`))
}, 120_000)

afterEach(async (ctx) => {
  if (ctx.task.result?.state !== 'fail') return
  mkdirSync(failuresDir, { recursive: true })
  const file = join(failuresDir, `${ctx.task.name.replace(/[^a-z0-9]+/gi, '-')}.png`)
  await page?.screenshot({ path: file, fullPage: true }).catch(() => {})
  console.error(`failed at ${page?.url()}; screenshot ${file}\nvoc serve's log (end):\n${voc?.log().slice(-6000)}`)
})

afterAll(async () => {
  await browser?.close().catch(() => {})
  // The server's log, for whoever reads a failure (e2e-results/ is ignored by git).
  mkdirSync(failuresDir, { recursive: true })
  if (voc) writeFileSync(join(failuresDir, 'serve.log'), voc.log())
  // Removed whatever happened, even if the dashboard's delete did not run.
  await removeStacks(made)
  await voc?.stop()
  dir?.remove()
}, 300_000)

const started = Date.now()
/** Where the time goes, in the output: `[+12.3 s] what`. */
const mark = (what: string) => console.log(`[+${((Date.now() - started) / 1000).toFixed(1)} s] ${what}`)

/**
 * Saves the whole page as docs/screenshots/<name>.png. CodeMirror measures
 * only the lines in view (the rest get estimated heights, which a
 * full-page shot shows as a squeezed gutter), so the window is first made
 * as tall as the page, and put back after.
 */
async function shot(p: Page, name: string): Promise<void> {
  const size = p.viewportSize() ?? { width: 1280, height: 860 }
  const height = Number(await p.evaluate('document.documentElement.scrollHeight'))
  await p.setViewportSize({ width: size.width, height: Math.min(Math.max(height, size.height), 6000) })
  // Two frames: the editors measure themselves in the next one.
  await p.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))')
  await p.screenshot({ path: join(screenshotsDir(), `${name}.png`), fullPage: true })
  await p.setViewportSize(size)
  mark(`screenshot ${name}`)
}

/** The page at `path` of the server. */
const open = (path: string) => page.goto(voc.url + path)

/** Waits until the job shown on the page ends, and fails if it did not succeed. */
async function jobSucceeds(scope: Page = page): Promise<string> {
  const job = scope.locator('[data-job][data-status="SUCCEEDED"], [data-job][data-status="FAILED"], [data-job][data-status="SKIPPED"]').first()
  await job.waitFor({ timeout: DEPLOY_MS })
  const status = await job.getAttribute('data-status')
  const id = (await job.getAttribute('data-job')) ?? ''
  expect(status, `job #${id}: ${await job.innerText()}`).toBe('SUCCEEDED')
  return id
}

/** Waits until the service has `replicas` tasks running (docker's count). */
const serviceRuns = (replicas: number) =>
  waitFor(`${service} running ${replicas}/${replicas}`, DEPLOY_MS, async () => (await runningReplicas(service)) === `${replicas}/${replicas}`, 1000)

/** The service's GREETING, from its spec. */
async function greeting(): Promise<string | undefined> {
  const spec = await inspectService(service)
  return spec?.env.find((e) => e.startsWith('GREETING='))?.slice('GREETING='.length)
}

describe.sequential('the dashboard against voc serve, Docker and git', () => {
  test('sign in; the session survives a reload; sign out', async () => {
    await open('/')
    await page.waitForURL((url) => url.pathname === '/sign-in')

    // A wrong password is said, and keeps the user out.
    await page.getByLabel('User name').fill('admin')
    await page.getByLabel('Password').fill('not-the-password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('alert').waitFor()
    expect(new URL(page.url()).pathname).toBe('/sign-in')

    await signIn(page, voc.url)
    await page.getByRole('heading', { name: 'Stacks', level: 1 }).waitFor()

    // The session is the cookie: a reload keeps it, and so does a deep link.
    await page.reload()
    await page.getByRole('heading', { name: 'Stacks', level: 1 }).waitFor()
    expect(new URL(page.url()).pathname).toBe('/')
    await open('/jobs')
    await page.getByRole('heading', { name: 'Jobs', level: 1 }).waitFor()

    // Signed out, a deep link asks to sign in and comes back after.
    await page.getByRole('button', { name: 'Sign out' }).first().click()
    await page.waitForURL((url) => url.pathname === '/sign-in')
    await open('/repository')
    await page.waitForURL((url) => url.pathname === '/sign-in' && url.searchParams.get('next') === '/repository')
    await signIn(page, voc.url)
    await page.getByRole('heading', { name: 'Repository', level: 1 }).waitFor()
  })

  test('a value out of bounds and a missing secret are shown at their fields', async () => {
    await open('/stacks/new')
    await page.getByRole('button', { name: 'Use Sleeper' }).click()
    await page.waitForURL((url) => url.searchParams.get('definition') === 'sleeper')

    const replicas = page.locator('[data-field="replicas"]')
    await replicas.locator('input').fill('9')
    // Shown as the user types, at the field, with the bounds.
    const error = replicas.locator('.field-error')
    await error.waitFor()
    expect(await error.innerText()).toMatch(/3/)
    expect(await replicas.locator('input').getAttribute('aria-invalid')).toBe('true')

    // Submitting does not commit, and names the missing password at its field.
    const headBefore = (await gitIn(bare, 'rev-parse', 'main')).trim()
    await page.getByLabel('Stack name').fill(uniqueName('e2e-refused'))
    await page.getByRole('button', { name: 'Create and deploy' }).click()
    await page.locator('[data-field="password"] .field-error').waitFor()
    await page.getByRole('alert').filter({ hasText: 'need a change' }).waitFor()
    expect((await gitIn(bare, 'rev-parse', 'main')).trim()).toBe(headBefore)

    // Back in bounds, the message goes.
    await replicas.locator('input').fill('2')
    await error.waitFor({ state: 'detached' })
  })

  test('a stack created from a definition through the form runs', async () => {
    await open('/stacks/new?definition=sleeper')
    await page.getByLabel('Stack name').fill(stack)
    await page.locator('[data-field="replicas"] input').fill('1')
    await page.locator('[data-field="greeting"] input').fill('first')
    await page.locator('[data-field="password"] input').fill('e2e-secret-1')
    await page.getByLabel('Commit message').fill('made by the dashboard tests')
    // The live preview renders the Compose file with these options.
    const preview = page.locator('aside.preview')
    await page.locator('aside.preview .badge.tone-ok').waitFor()
    await preview.getByText('GREETING: "first"').waitFor()
    await shot(page, 'new-stack-desktop')

    made.add(stack)
    mark('create: submit')
    await page.getByRole('button', { name: 'Create and deploy' }).click()
    // The commit, then the deploy job followed live, then the stack runs.
    await page.getByText(`Created ${stack}: committed`).waitFor()
    mark('create: committed')
    await jobSucceeds()
    mark('create: job succeeded')
    await page.locator('[data-settled="running"]').waitFor({ timeout: DEPLOY_MS })
    mark('create: settled running')

    // In git: one commit on the branch, by the signed-in user.
    const subject = (await gitIn(bare, 'log', '-1', '--format=%H %s', 'main')).trim()
    expect(subject).toContain(`create stack ${stack}`)
    createdCommit = subject.split(' ')[0] ?? ''
    // In Docker: the service runs with the options of the form.
    await serviceRuns(1)
    expect(await greeting()).toBe('first')

    // The overview shows it synced and healthy.
    await open('/')
    const row = page.locator(`tr[data-stack="${stack}"]`)
    await row.locator('[data-status="SYNCED"]').waitFor({ timeout: DEPLOY_MS })
    await row.locator('[data-status="HEALTHY"]').waitFor({ timeout: DEPLOY_MS })
    mark('create: synced and healthy on the overview')
    running = true
  })

  test('an option changed through Edit shows the diff, commits, and the service changes', async () => {
    expect(running, 'the create test left a running stack, which this test needs').toBe(true)
    await open(`/stacks/${stack}`)
    await page.getByRole('link', { name: 'Edit options' }).click()
    await page.getByRole('heading', { name: `Edit ${stack}` }).waitFor()
    const replicas = page.locator('[data-field="replicas"] input')
    // Filled with the stack's options; the secret is kept when left empty.
    await waitFor('the form filled with the options', 30_000, async () => (await replicas.inputValue()) === '1')
    await replicas.fill('2')
    await page.locator('[data-field="greeting"] input').fill('second')

    const diff = page.locator('pre.diff')
    await diff.locator('.add', { hasText: 'GREETING: "second"' }).waitFor()
    await diff.locator('.del', { hasText: 'GREETING: "first"' }).waitFor()
    await diff.locator('.add', { hasText: 'replicas: 2' }).waitFor()
    await shot(page, 'edit-stack-desktop')

    mark('edit: submit')
    await page.getByRole('button', { name: 'Commit and deploy' }).click()
    await page.getByText(`Updated ${stack}: committed`).waitFor()
    await jobSucceeds()
    mark('edit: job succeeded')
    await serviceRuns(2)
    mark('edit: 2/2 running')
    expect(await greeting()).toBe('second')
    await page.locator('[data-settled="running"]').waitFor({ timeout: DEPLOY_MS })
  })

  test('a roll back from the stack history restores the first options', async () => {
    expect(running, 'the create test left a running stack, which this test needs').toBe(true)
    expect(createdCommit, 'the create test made a commit').not.toBe('')
    await open(`/stacks/${stack}`)
    const rollBack = page.getByRole('button', { name: `Roll back to this commit ${createdCommit.slice(0, 8)}` })
    await rollBack.waitFor({ timeout: DEPLOY_MS })
    await rollBack.click()
    const dialog = page.getByRole('dialog')
    await dialog.getByRole('button', { name: 'Commit the rollback' }).click()
    await page.getByText(`Rolled back to ${createdCommit.slice(0, 8)}`).waitFor()
    await jobSucceeds()
    await serviceRuns(1)
    expect(await greeting()).toBe('first')
    expect((await inspectService(service))?.replicas).toBe(1)
  })

  test('a task killed by hand shows up failed, then replaced, live', async () => {
    expect(running, 'the create test left a running stack, which this test needs').toBe(true)
    await open(`/stacks/${stack}`)
    const card = page.locator('[data-service="app"]')
    // The one task left after the roll back (the second replica's goes).
    const runningRows = card.locator('tr[data-task][data-state="running"]')
    await waitFor('one running task on the page', DEPLOY_MS, async () => (await runningRows.count()) === 1)
    const taskId = (await runningRows.first().getAttribute('data-task')) ?? ''
    expect(taskId).not.toBe('')

    // A marker that a reload would lose.
    await page.evaluate('window.__e2eNoReload = true')
    const container = await waitFor('the task container', 60_000, async () =>
      (await docker('ps', '-q', '--filter', `label=com.docker.swarm.task.id=${taskId}`)).trim(),
    )
    await docker('kill', container)

    await card.locator(`tr[data-task="${taskId}"][data-state="failed"]`).waitFor({ timeout: 90_000 })
    await card.locator(`tr[data-task]:not([data-task="${taskId}"])[data-state="running"]`).waitFor({ timeout: DEPLOY_MS })
    expect(await page.evaluate('window.__e2eNoReload === true')).toBe(true)
    // The failed task says why.
    expect(await card.locator(`tr[data-task="${taskId}"]`).innerText()).toMatch(/exit|137|fail/i)
    await page.locator('.cm-editor').first().waitFor()
    await shot(page, 'stack-desktop')
  })

  test("a service's logs stream on the stack page, a forced redeploy's new task included", async () => {
    expect(running, 'the create test left a running stack, which this test needs').toBe(true)
    await open(`/stacks/${stack}`)
    const card = page.locator('[data-service="app"]')
    await card.getByRole('button', { name: 'Logs' }).click()
    const logs = page.locator('[data-logs="app"]')
    const said = logs.getByText('started by the dashboard tests')
    await said.first().waitFor()
    const before = await said.count()

    // Force redeploy: every task is replaced, and the new one's line arrives
    // in the open panel.
    await page.getByRole('button', { name: 'Force redeploy' }).click()
    await jobSucceeds()
    await waitFor("the new task's line in the open logs", DEPLOY_MS, async () => (await said.count()) > before)
  })

  test('screenshots of the main screens, desktop and phone', async () => {
    expect(running, 'the create test left a running stack, which this test needs').toBe(true)


    // A token, so that the tokens screen lists one (and shows it once).
    await open('/tokens')
    await page.getByLabel('Name').fill('ci-pipeline')
    await page.getByRole('button', { name: 'Create token' }).click()
    await page.getByText('Token “ci-pipeline” created').waitFor()
    await shot(page, 'tokens-desktop')

    // Filtered to this suite's stacks: the engine is shared with other tests.
    await open('/?q=e2e-')
    await page.locator(`tr[data-stack="${stack}"] [data-status="HEALTHY"]`).waitFor({ timeout: DEPLOY_MS })
    await shot(page, 'overview-desktop')

    await open('/jobs')
    await page.locator('tr[data-job]').first().waitFor()
    await shot(page, 'jobs-desktop')
    const firstJob = await page.locator('tr[data-job]').last().getAttribute('data-job')
    await open(`/jobs/${firstJob}`)
    await page.locator(`[data-job="${firstJob}"][data-status="SUCCEEDED"]`).waitFor()
    await page.locator('[aria-label^="Log of job"]', { hasText: 'converged' }).first().waitFor()
    // What the API says of the stack's last deploy time (logged for the report on the overview's times).
    console.log(
      'stack.lastDeploy from the API:',
      await page.evaluate(
        `fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ stack(name: "${stack}") { lastDeploy { status finishedAt } } }' }) }).then((r) => r.text())`,
      ),
    )
    await shot(page, 'job-log-desktop')

    await open('/repository')
    await page.locator('code', { hasText: bare }).waitFor()
    await shot(page, 'repository-desktop')

    await open('/stacks/new')
    await page.getByRole('button', { name: 'Use Sleeper' }).waitFor()
    await shot(page, 'new-stack-catalog-desktop')

    // The same screens on a phone.
    const phone = await newContext(browser, PHONE)
    try {
      const p = await phone.newPage()
      await p.goto(`${voc.url}/sign-in?next=${encodeURIComponent('/?q=e2e-')}`)
      await signIn(p, voc.url)
      await p.locator(`tr[data-stack="${stack}"] [data-status="HEALTHY"]`).waitFor({ timeout: DEPLOY_MS })
      await shot(p, 'overview-phone')
      await p.goto(`${voc.url}/stacks/${stack}`)
      await p.locator('[data-service="app"] tr[data-task][data-state="running"]').first().waitFor()
      await p.locator('.cm-editor').first().waitFor()
      await shot(p, 'stack-phone')
      await p.goto(`${voc.url}/stacks/new?definition=sleeper`)
      await p.locator('[data-field="password"] input').fill('phone-secret')
      await p.locator('aside.preview .badge.tone-ok').waitFor()
      await shot(p, 'new-stack-phone')
      await p.goto(`${voc.url}/jobs`)
      await p.locator('tr[data-job]').first().waitFor()
      await shot(p, 'jobs-phone')
      await p.goto(`${voc.url}/jobs/${firstJob}`)
      await p.locator(`[data-job="${firstJob}"][data-status="SUCCEEDED"]`).waitFor()
      await p.locator('[aria-label^="Log of job"]', { hasText: 'converged' }).first().waitFor()
      await shot(p, 'job-log-phone')
      await p.goto(`${voc.url}/repository`)
      await p.locator('code', { hasText: bare }).waitFor()
      await shot(p, 'repository-phone')
      await p.goto(`${voc.url}/tokens`)
      await p.getByRole('cell', { name: 'ci-pipeline', exact: true }).waitFor()
      await shot(p, 'tokens-phone')
    } finally {
      await phone.close()
    }
  })

  test('a delete confirmed by typing the name removes the stack', async () => {
    expect(running, 'the create test left a running stack, which this test needs').toBe(true)
    await open(`/stacks/${stack}`)
    await page.getByRole('button', { name: 'Delete…' }).click()
    const dialog = page.getByRole('dialog')
    const confirm = dialog.getByRole('button', { name: 'Delete the stack' })
    expect(await confirm.isDisabled()).toBe(true)
    await dialog.getByLabel(`Type ${stack} to confirm`).fill('not-the-name')
    expect(await confirm.isDisabled()).toBe(true)
    await dialog.getByLabel(`Type ${stack} to confirm`).fill(stack)
    await confirm.click()
    await page.getByText(`Deleted: committed`).waitFor()
    await jobSucceeds()

    // The page says so (the stack's query now answers "not found").
    await page.locator('[data-deleted]').waitFor({ timeout: DEPLOY_MS })
    // Gone from git and from the swarm, and from the overview.
    const tree = await gitIn(bare, 'ls-tree', '-r', '--name-only', 'main')
    expect(tree).not.toContain(stack)
    await waitFor(`nothing left of ${stack}`, DEPLOY_MS, async () => (await stackLeftovers(stack)).length === 0, 1000)
    await open('/')
    await page.getByRole('heading', { name: 'Stacks', level: 1 }).waitFor()
    await page.locator(`tr[data-stack="${stack}"]`).waitFor({ state: 'detached' })
    made.delete(stack)
  })

  test('the dashboard threw no uncaught error on the way', () => {
    expect(pageErrors).toEqual([])
  })
})
