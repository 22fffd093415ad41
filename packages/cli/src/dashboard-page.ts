import { dashboardScript } from './dashboard-script.js'
import type { DashboardState, DashboardTarget, DeadLetterView, DestinationRow } from './dashboard-state.js'
import { age } from './stats-command.js'

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)
}

/** `queue=orders` or `topic=order-events&subscription=invoicing`: how the page names a target to the server. */
export function targetQuery(target: DashboardTarget): string {
  const query: Record<string, string> = target.kind === 'queue' ? { queue: target.name } : { topic: target.topic, subscription: target.name }
  return new URLSearchParams(query).toString()
}

/** The whole page, with the tables of the moment already in it; the inline script keeps them fresh. */
export function renderPage(state: DashboardState, options: { csrf: string; nonce: string; intervalMs: number }): string {
  const mode = state.readOnly ? '<span class="badge" id="read-only">read-only</span>' : ''
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="anymq-csrf" content="${escapeHtml(options.csrf)}">
<meta name="anymq-interval" content="${options.intervalMs}">
<meta name="anymq-read-only" content="${state.readOnly}">
<title>anymq dashboard · ${escapeHtml(state.adapter)}</title>
<style>${styles}</style>
</head>
<body>
<header>
  <h1>anymq dashboard</h1>
  <div><span id="adapter">${escapeHtml(state.adapter)}</span> · <code id="broker-url">${escapeHtml(state.url)}</code> ${mode}</div>
  <div class="muted">updated <span id="updated">${new Date(state.at).toISOString()}</span> · every ${options.intervalMs} ms · <span id="status" role="status"></span></div>
</header>
<section>
  <h2>Throughput <span class="muted" id="chart-subject">all destinations</span></h2>
  <p class="muted">The admin API reports depths, not counters: the rate chart is each count's change per second between two readings (ready: sent minus taken; dead: dead-lettered minus redriven).</p>
  <div class="charts">
    <figure><figcaption>depth</figcaption><svg id="depth-chart" viewBox="0 0 600 140" role="img" aria-label="depth over time"></svg></figure>
    <figure><figcaption>change per second</figcaption><svg id="rate-chart" viewBox="0 0 600 140" role="img" aria-label="change per second over time"></svg></figure>
  </div>
  <div class="legend"><span class="ready">ready</span> <span class="in-flight">in flight</span> <span class="dead">dead-lettered</span> <span id="rates"></span></div>
</section>
<section>
  <h2>Queues and subscriptions</h2>
  <div id="destinations">${renderDestinations(state)}</div>
</section>
<section>
  <h2>Dead letters <span class="muted" id="dead-letters-of"></span></h2>
  <div id="dead-letters"><p class="muted">Choose “dead letters” on a row above.</p></div>
</section>
<script nonce="${escapeHtml(options.nonce)}">${dashboardScript}</script>
</body>
</html>
`
}

/** The destinations table and topic list, as the page shows them (also served alone to refresh them). */
export function renderDestinations(state: DashboardState): string {
  const note = state.listingNote === undefined ? '' : `<p class="note" id="listing-note">${escapeHtml(state.listingNote)}</p>`
  const statsNote = state.admin.stats ? '' : '<p class="note">stats are not available on this broker: depths cannot be shown</p>'
  const body =
    state.rows.length === 0
      ? '<tr><td colspan="8" class="muted">nothing to show: no queue or subscription found or named</td></tr>'
      : state.rows.map((row) => renderRow(row, state)).join('\n')
  const topics =
    state.topics.length === 0
      ? ''
      : `<h3>Topics</h3><ul id="topics">${state.topics.map((topic) => `<li data-topic="${escapeHtml(topic)}">${escapeHtml(topic)}</li>`).join('')}</ul>`
  return `${note}${statsNote}
<table>
<thead><tr><th>name</th><th>kind</th><th class="number">ready</th><th class="number">in flight</th><th class="number">dead</th><th class="number">consumers</th><th class="number">oldest</th><th></th></tr></thead>
<tbody>
${body}
</tbody>
</table>
${topics}`
}

function renderRow(row: DestinationRow, state: DashboardState): string {
  const query = escapeHtml(targetQuery(row.target))
  const kind = row.deadLetterQueue ? 'dead-letter queue' : row.target.kind
  const oldest = row.stats?.oldestAgeMs === undefined ? '–' : escapeHtml(age(row.stats.oldestAgeMs))
  const cells = row.stats
    ? `${[row.stats.ready, row.stats.inFlight, row.stats.deadLettered, row.stats.consumers].map((value, index) => numberCell(fields[index] as string, value)).join('')}<td class="number" data-field="oldest">${oldest}</td>`
    : `<td colspan="5" class="unavailable" data-field="unavailable">${escapeHtml(row.unavailable ?? 'not available on this broker')}</td>`
  const actions: string[] = []
  if (!row.deadLetterQueue) actions.push(`<button data-action="show-dead-letters" data-target="${query}">dead letters</button>`)
  if (!state.readOnly && state.admin.purge)
    actions.push(`<button data-action="purge" data-target="${query}" data-confirm="Remove every waiting message of ${escapeHtml(row.label)}?">purge</button>`)
  if (!state.readOnly && state.admin.delete)
    actions.push(
      `<button data-action="delete-destination" data-target="${query}" data-confirm="Delete ${escapeHtml(row.label)} and its messages?">delete</button>`,
    )
  return `<tr data-destination="${escapeHtml(row.label)}" data-target="${query}"><td>${escapeHtml(row.label)}</td><td>${kind}</td>${cells}<td class="actions">${actions.join(' ')}</td></tr>`
}

const fields = ['ready', 'in-flight', 'dead', 'consumers']

function numberCell(field: string, value: number | undefined): string {
  return `<td class="number" data-field="${field}">${value === undefined ? '–' : value}</td>`
}

/** The dead letters of one queue or subscription, with their actions unless the dashboard is read-only. */
export function renderDeadLetters(
  state: Pick<DashboardState, 'readOnly' | 'admin'>,
  target: DashboardTarget,
  letters: readonly DeadLetterView[] | string,
): string {
  const query = escapeHtml(targetQuery(target))
  if (typeof letters === 'string') return `<p class="unavailable" id="dead-letters-unavailable">${escapeHtml(letters)}</p>`
  const mutable = !state.readOnly
  const one = mutable && state.admin.deadLetterById
  const all = mutable
    ? `<div class="bulk"><button data-action="redrive-all" data-target="${query}">redrive all</button>${
        state.admin.purge
          ? ` <button data-action="delete-all" data-target="${query}" data-confirm="Delete every dead letter for good?">delete all</button>`
          : ''
      }</div>`
    : ''
  const byIdNote = mutable && !state.admin.deadLetterById ? '<p class="note">redrive and delete of one message are not available on this broker</p>' : ''
  if (letters.length === 0) return `${all}${byIdNote}<p class="muted" id="no-dead-letters">no dead letters</p>`
  const items = letters.map((letter) => {
    const headers = Object.entries(letter.headers)
      .map(([name, value]) => `<div><code>${escapeHtml(name)}</code>: ${escapeHtml(value)}</div>`)
      .join('')
    const buttons = one
      ? `<button data-action="redrive" data-target="${query}" data-id="${escapeHtml(letter.id)}">redrive</button>
<button data-action="edit" data-target="${query}" data-id="${escapeHtml(letter.id)}" data-body="${escapeHtml(letter.body)}">edit and redrive</button>
<button data-action="delete" data-target="${query}" data-id="${escapeHtml(letter.id)}" data-confirm="Delete this dead letter for good?">delete</button>`
      : ''
    return `<article class="dead-letter" data-id="${escapeHtml(letter.id)}">
<div class="meta"><code>${escapeHtml(letter.id)}</code>${letter.key === undefined ? '' : ` · key <code>${escapeHtml(letter.key)}</code>`} · <span data-field="attempts">${letter.attempts}</span> attempts · first failure ${escapeHtml(letter.firstFailureAt ?? '–')} · last failure ${escapeHtml(letter.lastFailureAt ?? '–')}</div>
<div class="error" data-field="error">${escapeHtml(letter.error.name)}: ${escapeHtml(letter.error.message)}</div>
<pre data-field="body">${escapeHtml(letter.body)}</pre>
<div class="headers" data-field="headers">${headers || '<span class="muted">no headers</span>'}</div>
<div class="actions">${buttons}</div>
</article>`
  })
  return `${all}${byIdNote}<p class="muted"><span id="dead-letter-count">${letters.length}</span> shown, oldest first</p>${items.join('\n')}`
}

const styles = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 2rem 2rem; color: #1d2330; background: #fafbfc; }
header { border-bottom: 1px solid #d8dde6; padding: 1rem 0; }
h1 { font-size: 1.3rem; margin: 0 0 .3rem; } h2 { font-size: 1.05rem; margin: 1.4rem 0 .5rem; } h3 { font-size: .95rem; }
.muted { color: #6b7385; font-weight: normal; } .note { background: #fff6d6; padding: .4rem .6rem; border-radius: 4px; }
.badge { background: #2b4c8c; color: white; border-radius: 3px; padding: 0 .4rem; font-size: .8rem; }
table { border-collapse: collapse; min-width: 60%; background: white; } th, td { padding: .3rem .6rem; border-bottom: 1px solid #e6e9ef; text-align: left; }
.number { text-align: right; font-variant-numeric: tabular-nums; } .unavailable { color: #8a5a00; }
.charts { display: flex; gap: 1rem; flex-wrap: wrap; } figure { margin: 0; } figcaption { color: #6b7385; font-size: .8rem; }
svg { width: 600px; height: 140px; background: white; border: 1px solid #e6e9ef; }
.legend span { margin-right: 1rem; } .legend .ready::before, .legend .in-flight::before, .legend .dead::before { content: "■ "; }
.ready { color: #2b6cb0; } .in-flight { color: #c05621; } .dead { color: #c53030; }
.dead-letter { background: white; border: 1px solid #e6e9ef; border-radius: 4px; padding: .5rem .8rem; margin: .5rem 0; }
.dead-letter pre { background: #f3f5f8; padding: .4rem; max-height: 12rem; overflow: auto; } .error { color: #c53030; }
button { cursor: pointer; }
`
