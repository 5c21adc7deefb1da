// The status page: plain ES module, no build step. Everything it shows comes
// from the /v1 API; every name from the tree goes into the page as text
// (textContent), never as markup, since file names are hostile input.

const STATE_ORDER = ['failing', 'retrying', 'held', 'syncing', 'waiting', 'paused', 'idle']
const TOKEN_KEY = 'syncplane.token'
const $ = (id) => document.getElementById(id)

let token = sessionStorage.getItem(TOKEN_KEY) ?? ''
let refreshTimer = null
let stream = null
let reconnect = null

/** An element with attributes (on* names are listeners) and children (strings become text). */
function el (tag, attrs = {}, ...children) {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v)
    else node.setAttribute(k, v === true ? '' : String(v))
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c))
  return node
}

class ApiError extends Error {
  constructor (status, problem) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`)
    this.status = status
  }
}

async function api (method, path, body) {
  const headers = { accept: 'application/json' }
  if (token !== '') headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const data = await res.json().catch(() => null)
  if (res.status === 401) {
    showLogin(token === '' ? '' : 'The token was refused.')
    throw new ApiError(401, data)
  }
  if (!res.ok) throw new ApiError(res.status, data)
  return data
}

const ago = (iso) => {
  if (iso === null || iso === undefined) return '—'
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000)
  return s < 0 ? `in ${-s} s` : s < 90 ? `${s} s ago` : s < 5400 ? `${Math.round(s / 60)} min ago` : new Date(iso).toLocaleString()
}
const duration = (ms) => (ms === null || ms === undefined ? '—' : ms < 1000 ? `${ms} ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60_000)} min`)
const badgeClass = (state) => (['failing', 'retrying'].includes(state) ? 'bad' : ['held', 'paused', 'waiting', 'syncing'].includes(state) ? 'warn' : 'ok')

function notice (message) {
  $('notice').hidden = message === ''
  $('notice').textContent = message
}

/** Runs an action, shows its error, and looks again. */
async function act (fn) {
  try {
    await fn()
    notice('')
  } catch (err) {
    if (err.status !== 401) notice(err.message)
  }
  scheduleRefresh(0)
}

function targetCard (t) {
  const fields = [
    ['state', t.paused ? `${t.state} (target paused)` : t.state],
    ['pending', `${t.pending + t.inFlight}${t.fullSyncPending ? ' + a full mirror owed' : ''}`],
    ['lag', duration(t.lagMs)],
    ['last success', ago(t.lastSuccessAt)],
    ['failures', t.consecutiveFailures],
    ['next retry', ago(t.nextRetryAt)],
    ['running job', t.runningJobId ?? '—'],
  ]
  if (t.deletesHeld !== null) fields.push(['deletes held', `${t.deletesHeld.count} (${t.deletesHeld.reason}): ${t.deletesHeld.message}`])
  const name = encodeURIComponent(t.name)
  return el('article', { class: `card ${t.state}`, 'data-target': t.name },
    el('h3', {}, t.name, el('span', { class: `badge ${badgeClass(t.state)}`, 'data-role': 'state' }, t.state)),
    el('div', { class: 'muted' }, t.url),
    el('dl', {}, fields.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])),
    t.lastError === null ? null : el('p', { class: 'error', 'data-role': 'last-error' }, `${ago(t.lastError.at)}, job ${t.lastError.jobId}: ${t.lastError.message}`),
    el('div', { class: 'actions' },
      el('button', { type: 'button', 'data-action': 'resync', onclick: () => act(() => api('POST', '/v1/resync', { targets: [t.name] })) }, 'Resync'),
      el('button', { type: 'button', 'data-action': 'force-resync', onclick: () => forceResync(t.name) }, 'Force resync…'),
      t.paused
        ? el('button', { type: 'button', 'data-action': 'resume', onclick: () => act(() => api('POST', `/v1/targets/${name}/resume`)) }, 'Resume')
        : el('button', { type: 'button', 'data-action': 'pause', onclick: () => act(() => api('POST', `/v1/targets/${name}/pause`)) }, 'Pause'),
      el('button', { type: 'button', 'data-action': 'pending', onclick: () => showPending(t.name) }, 'Pending paths'),
      t.runningJobId === null ? null : el('button', { type: 'button', 'data-action': 'cancel', onclick: () => act(() => api('POST', `/v1/jobs/${t.runningJobId}/cancel`)) }, 'Cancel job'),
      t.deletesHeld === null || t.deletesHeld.confirmed ? null : el('button', { type: 'button', 'data-action': 'confirm-deletes', onclick: () => confirmDeletes(t) }, 'Confirm deletes…')))
}

function peerCard (p) {
  const state = p.reachable === false ? 'failing' : p.state
  return el('article', { class: `card ${state}`, 'data-peer': p.name },
    el('h3', {}, p.name, el('span', { class: `badge ${badgeClass(state)}` }, p.reachable === false ? 'unreachable' : p.state)),
    el('div', { class: 'muted' }, p.api),
    el('dl', {}, [['owed', p.owed], ['lag', duration(p.lagMs)], ['last contact', ago(p.lastContact)], ['failures', p.consecutiveFailures], ['next retry', ago(p.nextRetryAt)]]
      .map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])),
    p.lastError === null ? null : el('p', { class: 'error' }, p.lastError))
}

function renderStatus (s) {
  const watcher = s.paused ? 'paused' : s.watcher.state
  $('watcher').textContent = `watcher: ${watcher}${s.watcher.lastError ? ` (${s.watcher.lastError})` : ''}`
  $('watcher').className = `badge ${watcher === 'running' ? 'ok' : watcher === 'paused' ? 'warn' : 'bad'}`
  $('pause-all').textContent = s.paused ? 'Resume all' : 'Pause all'
  $('pause-all').dataset.paused = String(s.paused)
  const targets = [...s.targets].sort((a, b) => STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state) || a.name.localeCompare(b.name))
  $('targets').replaceChildren(...(targets.length === 0 ? [el('p', { class: 'muted' }, 'No one-way targets.')] : targets.map(targetCard)))
  $('mesh-section').hidden = s.mesh === undefined
  if (s.mesh !== undefined) {
    const m = s.mesh
    $('mesh-summary').textContent = `node ${m.self}: ${m.idle ? 'idle' : 'busy'}, ${m.files} paths, ${m.conflicts} conflicts${m.deletesHeld === null ? '' : `, ${m.deletesHeld.count} local deletions held`}`
    $('peers').replaceChildren(...m.peers.map(peerCard))
  }
}

function renderJobs (jobs) {
  $('jobs').replaceChildren(...jobs.map((j) => el('tr', { 'data-job': j.id, class: j.status },
    el('td', {}, j.id), el('td', {}, j.target), el('td', {}, j.kind), el('td', {}, j.trigger), el('td', { 'data-role': 'status' }, j.status),
    el('td', {}, j.pathsCount), el('td', {}, duration(j.durationMs)), el('td', {}, ago(j.createdAt)), el('td', { class: 'error' }, j.error ?? ''))))
}

async function refresh () {
  refreshTimer = null
  const failed = $('failed-only').checked ? '&status=failed' : ''
  const [status, jobs] = await Promise.all([api('GET', '/v1/status'), api('GET', `/v1/jobs?limit=25${failed}`)])
  renderStatus(status)
  renderJobs(jobs.jobs)
}

/** Coalesces bursts of events into one look every quarter second at most. */
function scheduleRefresh (ms = 250) {
  if (refreshTimer !== null) return
  refreshTimer = setTimeout(() => refresh().catch((err) => { if (err.status !== 401) notice(err.message) }), ms)
}

function ask (title, body) {
  $('confirm-title').textContent = title
  $('confirm-body').textContent = body
  const dialog = $('confirm')
  dialog.returnValue = ''
  dialog.showModal()
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true }))
}

async function forceResync (name) {
  await act(async () => {
    const { preview } = await api('POST', '/v1/resync?limit=50', { targets: [name], dryRun: true })
    const p = preview[0]
    const list = (verb, l) => `would ${verb} ${l.count}:\n${l.paths.map((x) => `  ${JSON.stringify(x)}`).join('\n')}${l.count > l.paths.length ? `\n  … and ${l.count - l.paths.length} more` : ''}`
    const text = p.error !== null ? `The preview failed: ${p.error}` : `${list('send', p.send)}\n\n${list('delete', p.delete)}`
    if (await ask(`Force a full mirror of ${name}?`, text)) await api('POST', '/v1/resync', { targets: [name], force: true })
  })
}

async function confirmDeletes (t) {
  if (!(await ask(`Let ${t.name} make ${t.deletesHeld.count} held deletions?`, t.deletesHeld.message))) return
  await act(() => api('POST', `/v1/targets/${encodeURIComponent(t.name)}/deletes/confirm`, { expected: t.deletesHeld.count }))
}

async function showPending (name) {
  await act(async () => {
    const page = await api('GET', `/v1/targets/${encodeURIComponent(name)}/pending?limit=500`)
    $('pending-section').hidden = false
    $('pending-target').textContent = name
    $('pending-total').textContent = `${page.total} path(s)${page.total > page.items.length ? `, the first ${page.items.length} shown` : ''}${page.fullSyncPending ? '; a full mirror is owed too' : ''}`
    $('pending-list').replaceChildren(...page.items.map((i) => el('li', {}, `${JSON.stringify(i.path)} (since ${ago(i.since)})`)))
  })
}

/**
 * The event stream, read with fetch(): an EventSource cannot send the
 * bearer token. Any event means "look again"; the page shows the API's
 * state, never a state rebuilt from events. Reconnects with a backoff.
 */
async function follow (attempt = 0) {
  const controller = new AbortController()
  stream = controller
  try {
    const res = await fetch('/v1/events', { headers: token === '' ? {} : { authorization: `Bearer ${token}` }, signal: controller.signal })
    if (res.status === 401) return showLogin('The token was refused.')
    if (!res.ok) throw new Error(`HTTP ${res.status}`)
    $('live').textContent = 'live'
    $('live').className = 'badge ok'
    attempt = 0
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      if (/^event: /m.test(value)) scheduleRefresh()
    }
  } catch (err) {
    if (controller.signal.aborted) return
  }
  $('live').textContent = 'offline'
  $('live').className = 'badge bad'
  reconnect = setTimeout(() => follow(attempt + 1), Math.min(30_000, 500 * 2 ** attempt))
}

function showLogin (message) {
  stream?.abort()
  clearTimeout(reconnect)
  $('app').hidden = true
  $('login').hidden = false
  $('login-error').textContent = message
}

async function connect () {
  if (token === '' && document.querySelector('meta[name="syncplane-token"]')?.content === 'required') return showLogin('')
  $('login').hidden = true
  $('app').hidden = false
  try {
    await refresh()
  } catch (err) {
    if (err.status !== 401) notice(err.message)
    return
  }
  void follow()
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault()
  token = $('token').value.trim()
  sessionStorage.setItem(TOKEN_KEY, token)
  void connect()
})
$('pause-all').addEventListener('click', () => act(() => api('POST', $('pause-all').dataset.paused === 'true' ? '/v1/watch/resume' : '/v1/watch/pause')))
$('failed-only').addEventListener('change', () => scheduleRefresh(0))
$('pending-close').addEventListener('click', () => { $('pending-section').hidden = true })
// Ages ("12 s ago") move on their own.
setInterval(() => { if (!$('app').hidden) scheduleRefresh(0) }, 10_000)
void connect()
