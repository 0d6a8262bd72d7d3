// What the browser end-to-end tests stand on: a real git remote (a bare
// repo made with the git CLI), a real `voc serve` process following it, the
// real Docker engine (through the docker CLI), and Debian's Chromium driven
// by playwright-core.
//
// Nothing here sleeps for a fixed time: `waitFor` polls a condition until a
// deadline, and the tests wait on the page's own hooks (data attributes).
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'

const here = dirname(fileURLToPath(import.meta.url))
/** The repository's root (web/..). */
export const repoRoot = resolve(here, '..', '..')

/** A command's standard output; its standard error in the thrown error. */
export function sh(command: string, args: string[], options: { cwd?: string } = {}): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(command, args, { cwd: options.cwd, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')}: ${stderr || error.message}`))
      else resolvePromise(stdout)
    })
  })
}

export const docker = (...args: string[]) => sh('docker', args)

/** Polls `probe` until it returns something other than undefined, null or false. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  everyMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown = null
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined && value !== null && value !== false) return value
      last = null
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? `: ${String(last)}` : ''}`)
    }
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

/** A stack name no other run uses: `<prefix>-<6 random characters>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8).padEnd(6, '0')}`
}

/** A new bare repo on branch `main` holding `files` in one commit. */
export async function bareRepoWith(dir: string, files: Record<string, string>): Promise<string> {
  const work = join(dir, 'work')
  const bare = join(dir, 'remote.git')
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(work, path)), { recursive: true })
    writeFileSync(join(work, path), content)
  }
  const git = (args: string[], cwd: string) =>
    sh('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.org', ...args], { cwd })
  await git(['init', '-q', '-b', 'main'], work)
  await git(['add', '-A'], work)
  await git(['commit', '-q', '-m', 'the dashboard tests conf repo'], work)
  await git(['clone', '-q', '--bare', work, bare], dir)
  return bare
}

/** `git --git-dir <bare> <args>`. */
export const gitIn = (bare: string, ...args: string[]) => sh('git', ['--git-dir', bare, ...args])

export const ADMIN_USER = 'admin'
export const ADMIN_PASSWORD = 'dashboard-e2e-password'

export interface Voc {
  url: string
  /** The server's stderr so far (for failure messages). */
  log(): string
  stop(): Promise<void>
}

/** The voc binary: $VOC_BIN, else the debug build of this checkout. */
export function vocBinary(): string {
  return process.env.VOC_BIN || join(repoRoot, 'target', 'debug', 'voc')
}

/** Starts `voc serve` on a free port with its own data folder, following `repoUrl`. */
export async function startVoc(dir: string, repoUrl: string): Promise<Voc> {
  const config = join(dir, 'voc.toml')
  writeFileSync(config, `[repo]\nurl = ${JSON.stringify(repoUrl)}\n`)
  const logPath = join(dir, 'serve.log')
  const logFile = createWriteStream(logPath)
  const child: ChildProcess = spawn(vocBinary(), ['serve', '--config', config], {
    env: {
      ...process.env,
      VOC_DATA_DIR: join(dir, 'data'),
      VOC_LISTEN: '127.0.0.1:0',
      VOC_ADMIN_PASSWORD: ADMIN_PASSWORD,
      VOC_POLL_INTERVAL: '1s',
      VOC_LIVE_INTERVAL: '1s',
      RUST_LOG: process.env.RUST_LOG ?? 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stderr?.pipe(logFile)
  const log = () => {
    try {
      return readFileSync(logPath, 'utf8')
    } catch {
      return ''
    }
  }
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  const url = await new Promise<string>((resolveUrl, reject) => {
    let buffered = ''
    const timer = setTimeout(() => reject(new Error(`voc serve did not listen within 90 s; its log:\n${log()}`)), 90_000)
    child.once('error', (e) => {
      clearTimeout(timer)
      reject(new Error(`cannot start ${vocBinary()}: ${e.message} (set VOC_BIN)`))
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`voc serve exited with ${code} before listening; its log:\n${log()}`))
    })
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      const found = /voc is listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(buffered)
      if (found?.[1]) {
        clearTimeout(timer)
        resolveUrl(found[1])
      }
    })
  })
  return {
    url,
    log,
    async stop() {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(timer)
    },
  }
}

/** A temporary folder, removed by the returned function. */
export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

/** What a stack still has in the swarm (services, networks, secrets, configs). */
export async function stackLeftovers(name: string): Promise<string[]> {
  const label = `label=com.docker.stack.namespace=${name}`
  const lists = await Promise.all([
    docker('service', 'ls', '-q', '--filter', label),
    docker('network', 'ls', '-q', '--filter', label),
    docker('secret', 'ls', '-q', '--filter', label),
    docker('config', 'ls', '-q', '--filter', label),
  ])
  return lists.flatMap((l) => l.split('\n').filter(Boolean))
}

/** `docker stack rm` each stack, then waits until nothing of them is left. */
export async function removeStacks(names: Iterable<string>): Promise<void> {
  const all = [...names]
  if (all.length === 0) return
  await docker('stack', 'rm', ...all).catch(() => '')
  for (const name of all) {
    await waitFor(`nothing left of ${name}`, 90_000, async () => (await stackLeftovers(name)).length === 0, 1000).catch((e) =>
      console.warn(String(e)),
    )
  }
}

/** A service's spec and state, as `docker service inspect` gives it (null when there is none). */
export async function inspectService(fullName: string): Promise<{
  replicas: number | null
  env: string[]
} | null> {
  const out = await docker('service', 'inspect', fullName).catch(() => '')
  if (!out.trim()) return null
  const [spec] = JSON.parse(out) as Array<{
    Spec: { Mode?: { Replicated?: { Replicas?: number } }; TaskTemplate: { ContainerSpec: { Env?: string[] } } }
  }>
  if (!spec) return null
  return { replicas: spec.Spec.Mode?.Replicated?.Replicas ?? null, env: spec.Spec.TaskTemplate.ContainerSpec.Env ?? [] }
}

/** How many tasks of a service run, from `docker service ls`. */
export async function runningReplicas(fullName: string): Promise<string> {
  const out = await docker('service', 'ls', '--filter', `name=${fullName}`, '--format', '{{.Name}} {{.Replicas}}')
  const line = out.split('\n').find((l) => l.startsWith(`${fullName} `))
  return line ? line.slice(fullName.length + 1).trim() : ''
}

/** The browser: Debian's Chromium ($CHROMIUM to use another). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  })
}

export const DESKTOP = { width: 1280, height: 860 }
export const PHONE = { width: 390, height: 844 }

/** A browser context whose every wait is generous (a deploy takes 30 s here under load). */
export async function newContext(browser: Browser, viewport = DESKTOP): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport })
  context.setDefaultTimeout(60_000)
  context.setDefaultNavigationTimeout(60_000)
  return context
}

/** Signs in through the sign-in form and waits to leave it. */
export async function signIn(page: Page, base: string, user = ADMIN_USER, password = ADMIN_PASSWORD): Promise<void> {
  if (!page.url().includes('/sign-in')) await page.goto(`${base}/sign-in`)
  await page.getByLabel('User name').fill(user)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL((url) => !url.pathname.startsWith('/sign-in'))
}

/** Where the run saves its screenshots: docs/screenshots/ ($SCREENSHOTS_DIR to change it). */
export function screenshotsDir(): string {
  const dir = process.env.SCREENSHOTS_DIR || join(repoRoot, 'docs', 'screenshots')
  mkdirSync(dir, { recursive: true })
  return dir
}
