// Measures the JavaScript a first visit to the dashboard loads (the entry
// script of dist/index.html and the chunks it preloads), gzipped, and fails
// when it is over the budget. Lazily loaded chunks (screens, the YAML
// editor, the log viewer) and the playground page are listed but not
// counted.
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

const BUDGET_KB = 250
const dist = new URL('../dist/', import.meta.url).pathname

function gzipKb(file) {
  return gzipSync(readFileSync(join(dist, file)), { level: 9 }).length / 1024
}

/** The JS files an HTML page loads before anything else runs. */
function initialScripts(page) {
  const html = readFileSync(join(dist, page), 'utf8')
  const files = new Set()
  for (const m of html.matchAll(/<script[^>]*type="module"[^>]*src="\/([^"]+\.js)"/g)) files.add(m[1])
  for (const m of html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="\/([^"]+\.js)"/g)) files.add(m[1])
  return [...files]
}

function report(title, files) {
  let total = 0
  console.log(title)
  for (const file of files) {
    const kb = gzipKb(file)
    total += kb
    console.log(`  ${kb.toFixed(1).padStart(8)} KB  ${file}`)
  }
  console.log(`  ${total.toFixed(1).padStart(8)} KB  total (gzipped)`)
  return total
}

const initial = initialScripts('index.html')
const total = report('Initial JavaScript of the dashboard (index.html):', initial)
const playground = initialScripts('graphiql.html')
report('Initial JavaScript of the playground (graphiql.html, not counted):', playground)

const lazy = readdirSync(join(dist, 'assets'))
  .filter((f) => f.endsWith('.js'))
  .map((f) => `assets/${f}`)
  .filter((f) => !initial.includes(f) && !playground.includes(f))
  .map((f) => [f, gzipKb(f)])
  .sort((a, b) => b[1] - a[1])
console.log(`Lazily loaded chunks: ${lazy.length}, largest:`)
for (const [f, kb] of lazy.slice(0, 6)) console.log(`  ${kb.toFixed(1).padStart(8)} KB  ${f}`)

if (total > BUDGET_KB) {
  console.error(`The dashboard's initial JavaScript is ${total.toFixed(1)} KB gzipped, over the ${BUDGET_KB} KB budget.`)
  process.exit(1)
}
console.log(`Initial JavaScript ${total.toFixed(1)} KB gzipped: within the ${BUDGET_KB} KB budget.`)
