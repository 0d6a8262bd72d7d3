// Screenshots of the dashboard's main screens, for the README and for a
// person to look at. Drives Debian's Chromium through playwright-core
// against a running voc:
//
//   VOC_URL=http://127.0.0.1:8080 VOC_USER=admin VOC_PASSWORD=… \
//     node e2e/screenshots.mjs [out-dir]
//
// Optional: STACK=<name> adds that stack's page; CHROMIUM=<path>.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

const base = (process.env.VOC_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '')
const user = process.env.VOC_USER ?? 'admin'
const password = process.env.VOC_PASSWORD
if (!password) {
  console.error('Set VOC_PASSWORD (and VOC_USER, VOC_URL).')
  process.exit(2)
}
const out = process.argv[2] ?? 'e2e-shots'
mkdirSync(out, { recursive: true })

const pages = [
  ['overview', '/'],
  ['new-stack-catalog', '/stacks/new'],
  ['new-stack-form', '/stacks/new?definition=webapp'],
  ['jobs', '/jobs'],
  ['repository', '/repository'],
  ['images', '/images'],
  ['tokens', '/tokens'],
  ...(process.env.STACK ? [['stack', `/stacks/${process.env.STACK}`]] : []),
]

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox'],
})
try {
  for (const [device, viewport] of [
    ['desktop', { width: 1280, height: 860 }],
    ['phone', { width: 390, height: 844 }],
  ]) {
    const context = await browser.newContext({ viewport })
    const page = await context.newPage()
    await page.goto(`${base}/sign-in`)
    await page.getByLabel('User name').fill(user)
    await page.getByLabel('Password').fill(password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL((url) => !url.pathname.startsWith('/sign-in'))
    for (const [name, path] of device === 'desktop' ? pages : pages.slice(0, 1)) {
      await page.goto(base + path)
      await page.waitForLoadState('networkidle').catch(() => {})
      await page.waitForTimeout(800)
      const file = join(out, `${name}-${device}.png`)
      await page.screenshot({ path: file, fullPage: true })
      console.log(file)
    }
    if (device === 'desktop') {
      await page.goto(`${base}/graphiql`)
      await page.waitForSelector('.graphiql-container', { timeout: 15_000 })
      await page.screenshot({ path: join(out, 'graphiql-desktop.png') })
      console.log(join(out, 'graphiql-desktop.png'))
    }
    await context.close()
  }
} finally {
  await browser.close()
}
