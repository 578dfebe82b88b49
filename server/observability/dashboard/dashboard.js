// slotsync dashboard: reads the public sync procedures' REST twins (the same
// numbers every client gets) and draws them. No build step, no library.
// Paths are relative to the page, so it also works behind a proxy that
// serves slotsync under a prefix (https://ops.example/slotsync/).

const STATUS_EVERY_MS = 5_000
const SLOW_EVERY_MS = 15_000
const TOKEN_KEY = 'slotsync.adminToken'
const $ = (id) => document.getElementById(id)
const fmtInt = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : '–')

function el(tag, attrs = {}, ...children) {
  const e = document.createElementNS(
    tag === 'svg' || tag === 'rect' || tag === 'line' || tag === 'title' ? 'http://www.w3.org/2000/svg' : 'http://www.w3.org/1999/xhtml',
    tag,
  )
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, String(v))
  // Text goes in as text: error messages come from the partner.
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)))
  return e
}

function fmtAge(seconds) {
  if (seconds === null || seconds === undefined) return '–'
  if (seconds < 90) return `${Math.round(seconds)} s`
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`
  if (seconds < 36 * 3600) return `${(seconds / 3600).toFixed(1)} h`
  return `${(seconds / 86400).toFixed(1)} d`
}

function fmtDuration(minutes) {
  if (minutes < 1) return 'under a minute'
  const h = Math.floor(minutes / 60)
  const m = Math.round(minutes % 60)
  return h ? `${h} h ${m} min` : `${m} min`
}

/** YYYY-MM-DD plus n calendar days (the product's zone is already in the date). */
const addDays = (date, n) => new Date(Date.parse(`${date}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10)
const ageOf = (iso, nowMs) => (iso ? Math.max(0, (nowMs - Date.parse(iso)) / 1000) : null)
const pick = (obj, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj)
const hostOf = (url) => {
  try {
    return new URL(url).host
  } catch {
    return '–'
  }
}

async function getJson(path) {
  const res = await fetch(path, { cache: 'no-store', headers: { accept: 'application/json' } })
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`)
  return res.json()
}

let status = null
let grid = null

function showMessage(text, isError = false) {
  const m = $('message')
  m.hidden = !text
  m.textContent = text || ''
  m.className = isError ? 'error' : ''
}

function renderStatus(s, nowMs) {
  for (const node of document.querySelectorAll('[data-k]')) node.textContent = fmtInt(pick(s, node.dataset.k))
  const halted = s.budget.haltedUntil && Date.parse(s.budget.haltedUntil) > nowMs
  const state = s.paused ? 'paused' : halted ? 'halted' : s.running ? 'running' : 'stopped'
  const badge = $('state')
  badge.dataset.state = state
  badge.textContent = { paused: 'paused', halted: 'halted by a 429', running: 'running', stopped: 'not syncing' }[state]
  const toggle = $('toggle')
  toggle.disabled = false
  toggle.textContent = s.paused ? 'Resume sync' : 'Pause sync'
  $('partner').textContent = `${s.partner.host ?? hostOf(s.partner.baseUrl)}${s.partner.sandbox ? ' (sandbox)' : ''}`
  $('updated').textContent = new Date(nowMs).toLocaleTimeString()
  // Beside the never-fetched count (a data-k): the oldest age alone reads as full coverage during the first pass.
  $('oldest-age').textContent = s.oldestServedFetchedAt ? `${fmtAge(ageOf(s.oldestServedFetchedAt, nowMs))} ago` : '–'
  $('halted').textContent = halted ? ` · halted by a 429 until ${new Date(s.budget.haltedUntil).toLocaleTimeString()}` : ''
  $('run-eta').textContent = s.run?.etaAt ? ` · run done ≈ ${new Date(s.run.etaAt).toLocaleTimeString()}` : ''
  renderTiers(s, nowMs)

  renderFirstPass(s, nowMs)

  const failing = $('failing').tBodies[0]
  failing.replaceChildren(
    ...s.failingProducts.map((f) =>
      el(
        'tr',
        { 'data-product': f.productId },
        el('td', {}, f.productId),
        el('td', {}, f.failingDays),
        el('td', {}, f.lastSuccessAt ? `${fmtAge(ageOf(f.lastSuccessAt, nowMs))} ago` : 'never'),
        el('td', {}, f.lastError ?? ''),
      ),
    ),
  )
  if (!s.failingProducts.length) failing.append(el('tr', {}, el('td', { colspan: 4, class: 'muted' }, 'none')))
  $('last-error').textContent = s.lastError ? `Last error ${fmtAge(ageOf(s.lastError.at, nowMs))} ago: ${s.lastError.message}` : ''
}

// A banner while some (product, day) pair was never fetched: those days answer as if nothing were on sale.
function renderFirstPass(s, nowMs) {
  const fp = s.firstPass
  $('first-pass').hidden = !fp || fp.neverFetched === 0
  if ($('first-pass').hidden) return
  $('first-pass-bar').style.width = fp.pairs ? `${(100 * fp.fetched) / fp.pairs}%` : '0%'
  const left = fp.etaAt ? Math.max(0, (Date.parse(fp.etaAt) - nowMs) / 60_000) : null
  const togo = s.paused ? 'paused' : left === null ? 'not advancing' : left < 1 ? 'under a minute to go' : `~${fmtDuration(left)} to go`
  $('first-pass-text').textContent = `${fmtInt(fp.fetched)} of ${fmtInt(fp.pairs)} days fetched, ${togo}`
  $('first-pass-note').textContent =
    `(product, day) pairs; ${fp.perMinute}/min ${fp.pace === 'observed' ? 'lately' : 'at the partner budget'}; days not fetched yet show nothing on sale`
}

function renderTiers(s, nowMs) {
  const ranges = new Map((grid ? grid.tiers : []).map((t) => [t.name, t.fromOffset === t.toOffset ? `${t.fromOffset}` : `${t.fromOffset}–${t.toOffset}`]))
  $('tiers').tBodies[0].replaceChildren(
    ...Object.entries(s.tiers).map(([name, t]) =>
      el(
        'tr',
        { 'data-tier': name },
        el('td', {}, name),
        el('td', { class: 'muted' }, ranges.get(name) ?? ''),
        ...['fresh', 'due', 'overdue', 'total'].map((k) => el('td', { 'data-k': `tiers.${name}.${k}` }, fmtInt(t[k]))),
        // Reported per tier by newer servers; older ones only give the overall oldest.
        el('td', { 'data-oldest': name }, 'oldestFetchedAt' in t ? (t.oldestFetchedAt ? fmtAge(ageOf(t.oldestFetchedAt, nowMs)) : 'never') : '–'),
      ),
    ),
  )
}

function renderHistory(h, limit) {
  const svg = $('history')
  const peak = Math.max(...h.minutes.map((m) => m.requests))
  // Scaled to the limit when the budget is in use, else to the peak, so the
  // hour's shape stays visible under a limit far above the traffic.
  const top = limit && limit <= 3 * peak ? Math.max(limit, peak) * 1.1 : Math.max(peak, 1) * 1.15
  const w = 600 / h.minutes.length
  const bars = h.minutes.map((m, i) =>
    el(
      'rect',
      { x: i * w + 1, y: 120 - (120 * m.requests) / top, width: w - 2, height: (120 * m.requests) / top },
      el('title', {}, `${new Date(m.at).toLocaleTimeString()}: ${m.requests} requests`),
    ),
  )
  const lines =
    limit && limit <= top
      ? [el('line', { x1: 0, x2: 600, y1: 120 - (120 * limit) / top, y2: 120 - (120 * limit) / top }, el('title', {}, `limit ${limit}/min`))]
      : []
  svg.replaceChildren(...bars, ...lines)
  $('history-peak').textContent = `peak ${fmtInt(peak)}/min${limit ? ` · limit ${fmtInt(limit)}/min${limit <= top ? ' (dashed)' : ''}` : ''}`
}

function renderGrid(g) {
  const nowMs = Date.parse(g.at)
  const head = el('tr', {}, el('th', {}, 'product'), ...Array.from({ length: g.days }, (_, i) => el('th', {}, i === 0 ? 'today' : `+${i}`)))
  $('grid').tHead.replaceChildren(head)
  $('grid').tBodies[0].replaceChildren(
    ...g.products.map((p) =>
      el(
        'tr',
        { 'data-product': p.productId, style: p.paused ? 'opacity:.4' : undefined },
        el('td', { class: 'p' }, p.productId + (p.paused ? ' (paused)' : '')),
        ...p.fetchedAt.map((iso, off) => {
          const age = ageOf(iso, nowMs)
          const failing = p.failing.includes(off)
          return el('td', {
            // The server classes each day (the rule sync status counts with); the page only paints it.
            class: `c ${p.state[off]}${failing ? ' failing' : ''}`,
            // What a per-cell view (sync/explain) needs to ask about this day.
            'data-product-id': p.productId,
            'data-date': p.today ? addDays(p.today, off) : undefined,
            'data-offset': off,
            title: `product ${p.productId}, day +${off}: ${iso ? `fetched ${fmtAge(age)} ago` : 'never fetched'}${failing ? ', last fetch failed' : ''}`,
          })
        }),
      ),
    ),
  )
}

async function refreshStatus() {
  try {
    status = await getJson('api/v1/sync/status')
    renderStatus(status, Date.now())
    document.body.dataset.statusLoaded = String(Date.now())
  } catch (err) {
    $('state').dataset.state = 'error'
    $('state').textContent = 'status unavailable'
    showMessage(String(err.message || err), true)
  }
}

async function refreshSlow() {
  try {
    const [g, h] = await Promise.all([getJson('api/v1/sync/freshness'), getJson('api/v1/sync/budget-history')])
    grid = g
    renderGrid(g)
    renderHistory(h, status?.budget.limitPerMinute)
    if (status) renderTiers(status, Date.now())
    document.body.dataset.slowLoaded = String(Date.now())
  } catch (err) {
    showMessage(String(err.message || err), true)
  }
}

// ---- pause / resume: the admin token stays in this tab's sessionStorage only.
let pendingAction = null

async function sendToggle(action) {
  const token = sessionStorage.getItem(TOKEN_KEY)
  if (!token) {
    pendingAction = action
    $('token-form').hidden = false
    $('token').focus()
    return
  }
  $('toggle').disabled = true
  try {
    const res = await fetch(`api/v1/sync/${action}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    if (res.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY)
      showMessage('The admin token was refused; enter it again.', true)
      pendingAction = action
      $('token-form').hidden = false
      return
    }
    if (!res.ok) throw new Error(`${action}: HTTP ${res.status}`)
    const state = await res.json()
    showMessage(state.paused ? 'Sync paused.' : 'Sync resumed.')
    await refreshStatus()
    await refreshAudit()
  } catch (err) {
    showMessage(String(err.message || err), true)
  } finally {
    $('toggle').disabled = false
  }
}

// ---- one day's explanation: the policy's reason, its turn, its rank (sync/explain).
async function explainCell(td) {
  const productId = td.getAttribute('data-product-id')
  const date = td.getAttribute('data-date')
  if (!productId || !date) return
  try {
    const x = await getJson(`api/v1/sync/explain?productId=${encodeURIComponent(productId)}&date=${encodeURIComponent(date)}`)
    const when = (iso) => (iso ? new Date(iso).toLocaleString() : '–')
    const rows = [
      ['reason', x.reason],
      ['tier', x.servedAs && x.servedAs !== x.tier ? `${x.tier}, served as ${x.servedAs}` : (x.tier ?? '–')],
      ['last fetch', x.lastFetchedAt ? `${when(x.lastFetchedAt)} (${x.lastOutcome})` : 'never'],
      ['next sent', when(x.dueAt)],
      ['stale at', when(x.staleAt)],
      ['plan slice', x.slice ? `${new Date(x.slice.from).toLocaleTimeString()}–${new Date(x.slice.to).toLocaleTimeString()}` : '–'],
      ['rank in tier', x.rank ?? '–'],
      ['why', x.detail],
    ]
    if (x.lastError) rows.push(['last error', x.lastError])
    $('explain-title').textContent = `product ${x.productId}, ${x.date}`
    $('explain').replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', { 'data-x': k }, v)]))
    $('explain-panel').hidden = false
  } catch (err) {
    showMessage(String(err.message || err), true)
  }
}

// ---- admin actions: the audit trail, for a tab that holds the admin token.
async function refreshAudit() {
  const token = sessionStorage.getItem(TOKEN_KEY)
  if (!token) return
  const res = await fetch('api/v1/audit?limit=10', { headers: { authorization: `Bearer ${token}` } })
  if (!res.ok) return
  const { actions } = await res.json()
  const now = Date.now()
  $('audit')
    .querySelector('tbody')
    .replaceChildren(
      ...actions.map((a) =>
        el('tr', {}, el('td', { title: a.at }, `${fmtAge(ageOf(a.at, now))} ago`), el('td', {}, a.action), el('td', {}, a.target), el('td', {}, a.tokenId)),
      ),
    )
  $('audit-panel').hidden = false
}

function start() {
  $('toggle').addEventListener('click', () => sendToggle(status?.paused ? 'resume' : 'pause'))
  $('grid').addEventListener('click', (ev) => {
    const td = ev.target.closest('td[data-date]')
    if (td) explainCell(td)
  })
  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault()
    sessionStorage.setItem(TOKEN_KEY, $('token').value.trim())
    $('token').value = ''
    $('token-form').hidden = true
    showMessage('')
    if (pendingAction) sendToggle(pendingAction)
    pendingAction = null
  })
  $('token-cancel').addEventListener('click', () => {
    $('token-form').hidden = true
    pendingAction = null
  })
  refreshStatus().then(refreshSlow).then(refreshAudit)
  setInterval(refreshStatus, STATUS_EVERY_MS)
  setInterval(refreshSlow, SLOW_EVERY_MS)
}

start()
