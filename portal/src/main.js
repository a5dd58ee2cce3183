import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { account, ApiError, loadFeatures, loadSession } from './api.js';
import { Chart } from './chart.js';
import { DestinationForm } from './destination-form.js';
import { Snippets } from './snippets.js';
import { CANONICAL_EVENTS, ErrorNote, html } from './ui.js';
const STATUSES = ['pending', 'retrying', 'sent', 'failed', 'cancelled', 'skipped'];
const OPEN = new Set(['pending', 'retrying']);
const THEME = /^(?:[0-9a-fA-F]{3}){1,2}$/;

// The embedding dashboard's colour: validated here as on the server; set through the CSSOM,
// which the CSP (no inline styles) allows.
const theme = new URLSearchParams(location.search).get('theme');
if (theme && THEME.test(theme)) document.documentElement.style.setProperty('--accent', `#${theme}`);

function useRoute() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  const [path, query = ''] = hash.replace(/^#/, '').split('?');
  return { parts: path.split('/').filter(Boolean), query: new URLSearchParams(query) };
}

/** Loads once per key; `reload` loads again. */
function useLoad(load, key) {
  const [state, setState] = useState({ loading: true });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let live = true;
    setState((previous) => ({ ...previous, loading: true }));
    load().then(
      (data) => live && setState({ data }),
      (error) => live && setState({ error }),
    );
    return () => {
      live = false;
    };
  }, [key, generation]);
  return { ...state, reload: () => setGeneration((n) => n + 1) };
}

function Loading() {
  return html`<p aria-live="polite">Loading…</p>`;
}

/** 259200000 → "3 d", 1500 → "1.5 s": retry settings read at a glance. */
function duration(ms) {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['min', 60_000], ['s', 1000]]) {
    if (ms >= size) return `${Number((ms / size).toFixed(1))} ${unit}`;
  }
  return `${ms} ms`;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : '—';
}

function StatusBadge({ status }) {
  return html`<span class=${`badge status-${status}`}>${status}</span>`;
}

function describeFilter(filter) {
  const rules = [];
  if (filter.campaign_ids) rules.push(`campaign ${filter.campaign_ids.join(' or ')}`);
  if (filter.countries) rules.push(`country ${filter.countries.join(' or ')}`);
  if (filter.min_value) rules.push(`deposits of at least ${filter.min_value}`);
  return rules.join('; ') || 'every event';
}

function destinationState(destination) {
  if (!destination.enabled) return 'disabled';
  if (destination.paused) return 'paused';
  return 'enabled';
}

/** Runs a write, reports its outcome in the page's status line, then refreshes. */
function useAction(onDone) {
  const [state, setState] = useState({});
  const run = async (label, work) => {
    setState({ busy: true });
    try {
      const result = await work();
      setState({ message: `${label}: done.` });
      if (onDone) onDone(result);
      return result;
    } catch (error) {
      setState({ error });
      return undefined;
    }
  };
  const note = html`${state.message && html`<p class="ok" role="status">${state.message}</p>`}<${ErrorNote} error=${state.error} />`;
  return { run, busy: state.busy, note };
}

function DestinationsList({ session }) {
  const list = useLoad(() => account('GET', '/destinations'), 'list');
  return html`
    <section aria-labelledby="destinations-title">
      <div class="heading">
        <h1 id="destinations-title">Destinations</h1>
        ${!session.read_only && html`<a class="button" href="#/destinations/new">New destination</a>`}
      </div>
      ${list.loading && html`<${Loading} />`}
      <${ErrorNote} error=${list.error} />
      ${list.data &&
      (list.data.length === 0
        ? html`<p>No destinations yet.</p>`
        : html`<table>
            <thead><tr><th scope="col">Name</th><th scope="col">URL</th><th scope="col">State</th><th scope="col">Breaker</th><th scope="col">Last failure</th></tr></thead>
            <tbody>
              ${list.data.map(
                (destination) => html`<tr key=${destination.id}>
                  <td><a href=${`#/destinations/${destination.id}`}>${destination.name}</a></td>
                  <td class="url">${destination.url}</td>
                  <td><${StatusBadge} status=${destinationState(destination)} /></td>
                  <td>${destination.health.breaker}</td>
                  <td>${destination.health.last_failure_reason || '—'}</td>
                </tr>`,
              )}
            </tbody>
          </table>`)}
    </section>`;
}

function SecretReveal({ secret }) {
  if (!secret) return null;
  return html`<div class="secret" role="status">
    <p><strong>New signing secret — shown once.</strong> Store it now; until ${when(secret.previous_secret_expires_at)} requests carry signatures with both secrets.</p>
    <label for="revealed-secret">Signing secret</label>
    <input id="revealed-secret" readonly value=${secret.signing_secret} />
    <button type="button" onClick=${() => navigator.clipboard && navigator.clipboard.writeText(secret.signing_secret)}>Copy secret</button>
  </div>`;
}

const RECOVERABLE = ['failed', 'skipped', 'cancelled'];

/** Starts a recovery of a time window and follows it until it ends. */
function RecoverForm({ destinationId }) {
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [statuses, setStatuses] = useState(['failed']);
  const [recovery, setRecovery] = useState(undefined);
  const action = useAction((created) => setRecovery({ id: created.id, state: 'running' }));
  useEffect(() => {
    if (!recovery || recovery.state !== 'running') return undefined;
    const timer = setTimeout(() => account('GET', `/recoveries/${recovery.id}`).then(setRecovery, () => undefined), 1000);
    return () => clearTimeout(timer);
  }, [recovery]);
  const submit = (event) => {
    event.preventDefault();
    action.run('Recovery started', () =>
      account('POST', `/destinations/${destinationId}/recover`, { since: new Date(since).toISOString(), ...(until ? { until: new Date(until).toISOString() } : {}), statuses }),
    );
  };
  const toggle = (status, on) => setStatuses(on ? [...statuses, status] : statuses.filter((s) => s !== status));
  return html`<form class="inline-form" onSubmit=${submit} aria-labelledby="recover-title">
    <h2 id="recover-title">Recover a time window</h2>
    <p>Sends again this destination's deliveries created in the window, with the statuses ticked.</p>
    <label for="recover-since">From</label><input id="recover-since" type="datetime-local" required value=${since} onInput=${(e) => setSince(e.currentTarget.value)} />
    <label for="recover-until">Until (empty: now)</label><input id="recover-until" type="datetime-local" value=${until} onInput=${(e) => setUntil(e.currentTarget.value)} />
    <fieldset><legend>Statuses</legend>
      ${RECOVERABLE.map((status) => html`<div class="check"><input id=${`recover-${status}`} type="checkbox" checked=${statuses.includes(status)} onChange=${(e) => toggle(status, e.currentTarget.checked)} /><label for=${`recover-${status}`}>${status}</label></div>`)}
    </fieldset>
    <div><button type="submit" disabled=${action.busy || statuses.length === 0}>Recover</button></div>
    ${action.note}
    ${recovery && recovery.matched !== undefined && html`<p role="status">Recovery ${recovery.state}: ${recovery.matched} found, ${recovery.retried} sent again, ${recovery.skipped} left alone.</p>`}
  </form>`;
}

/** Sends a test event of one of the destination's mapped events, and links to its delivery. */
function TestEvent({ destination, busy, run }) {
  const mapped = Object.keys(destination.event_map);
  const [canonical, setCanonical] = useState(mapped[0] || 'deposit');
  const [sent, setSent] = useState(undefined);
  const send = async () => setSent(await run('Test event sent', () => account('POST', `/destinations/${destination.id}/test`, { canonical })));
  return html`<span class="test-event">
    <label for="test-canonical">Test event</label>
    <select id="test-canonical" value=${canonical} onChange=${(e) => setCanonical(e.currentTarget.value)}>${mapped.map((c) => html`<option value=${c}>${c}</option>`)}</select>
    <button type="button" disabled=${busy || mapped.length === 0} onClick=${send}>Send test event</button>
    ${sent && html`<a href=${`#/deliveries/${sent.event_id}`}>Open the test delivery</a>`}
  </span>`;
}

function DestinationDetail({ id, session, features }) {
  const destination = useLoad(() => account('GET', `/destinations/${id}`), `d:${id}`);
  const stats = useLoad(() => account('GET', `/destinations/${id}/stats?hours=168`), `s:${id}`);
  const [secret, setSecret] = useState(undefined);
  const action = useAction(() => {
    destination.reload();
    stats.reload();
  });
  if (destination.loading && !destination.data) return html`<${Loading} />`;
  if (destination.error) return html`<section><h1>Destination</h1><${ErrorNote} error=${destination.error} /></section>`;
  const d = destination.data;
  const s = stats.data;
  const write = !session.read_only;
  const rotate = async () => {
    if (!confirm('Rotate the signing secret? The current one keeps signing for the grace period.')) return;
    const rotated = await action.run('Secret rotated', () => account('POST', `/destinations/${id}/rotate-secret`));
    if (rotated) setSecret(rotated);
  };
  return html`
    <section aria-labelledby="destination-title">
      <div class="heading">
        <h1 id="destination-title">${d.name}</h1>
        <${StatusBadge} status=${destinationState(d)} />
      </div>
      <p class="url">${d.method} ${d.format === 'postback' ? d.url_template : d.url}</p>
      ${d.disabled_reason && html`<p class="error">Disabled: ${d.disabled_reason}</p>`}
      ${write &&
      html`<div class="actions" role="group" aria-label="Destination actions">
        <a class="button" href=${`#/destinations/${id}/edit`}>Edit</a>
        <button type="button" disabled=${action.busy} onClick=${() => action.run(d.enabled ? 'Disabled' : 'Enabled', () => account('PATCH', `/destinations/${id}`, { enabled: !d.enabled }))}>${d.enabled ? 'Disable' : 'Enable'}</button>
        <button type="button" disabled=${action.busy} onClick=${() => action.run(d.paused ? 'Resumed' : 'Paused', () => account('POST', `/destinations/${id}/${d.paused ? 'resume' : 'pause'}`))}>${d.paused ? 'Resume' : 'Pause'}</button>
        <button type="button" disabled=${action.busy} onClick=${rotate}>Rotate signing secret</button>
        ${features.testEvent && html`<${TestEvent} destination=${d} busy=${action.busy} run=${action.run} />`}
      </div>`}
      ${action.note}
      <${SecretReveal} secret=${secret} />
      <h2>Health</h2>
      <dl class="facts">
        <dt>Success rate (7 days)</dt><dd>${s ? (s.success_rate === null ? 'no finished deliveries' : `${(s.success_rate * 100).toFixed(1)} %`) : '…'}</dd>
        <dt>Circuit breaker</dt><dd>${d.health.breaker}${d.health.open_until ? ` until ${when(d.health.open_until)}` : ''}</dd>
        <dt>Failures in a row</dt><dd>${d.health.failure_streak}</dd>
        <dt>Last success</dt><dd>${when(d.health.last_success_at)}</dd>
        <dt>Last failure</dt><dd>${when(d.health.last_failure_at)}${d.health.last_failure_reason ? ` — ${d.health.last_failure_reason}` : ''}</dd>
      </dl>
      ${s && html`<${Chart} buckets=${s.buckets} />`}
      <${ErrorNote} error=${stats.error} />
      <p><a href=${`#/deliveries?destination_id=${id}`}>Deliveries of this destination</a></p>
      <h2>Settings</h2>
      <dl class="facts">
        <dt>Events</dt><dd>${Object.entries(d.event_map).map(([canonical, target]) => `${canonical} → ${target}`).join(', ') || '—'}</dd>
        ${d.filter && html`<dt>Only events matching</dt><dd>${describeFilter(d.filter)}</dd>`}
        ${d.success_body && html`<dt>Accepted when the body has</dt><dd class="mono">${d.success_body}</dd>`}
        <dt>Headers</dt><dd>${Object.keys(d.headers).map((name) => `${name}: ${d.headers[name]}`).join(', ') || '—'}</dd>
        <dt>Retry policy</dt><dd>first retry after ${duration(d.retry_policy.initial_interval_ms)}, ×${d.retry_policy.backoff_coefficient} each time, at most ${duration(d.retry_policy.max_interval_ms)} apart; up to ${d.retry_policy.max_attempts} attempts within ${duration(d.retry_policy.max_age_ms)}</dd>
        <dt>Timeout</dt><dd>${duration(d.timeout_ms)}</dd>
        <dt>Rate limit</dt><dd>${d.rate_limit_per_second === null ? 'none' : `${d.rate_limit_per_second} per second`}</dd>
        <dt>Max in flight</dt><dd>${d.max_in_flight}</dd>
      </dl>
      ${write && features.recover && html`<${RecoverForm} destinationId=${id} />`}
    </section>`;
}

function DeliveriesList({ query }) {
  const destinations = useLoad(() => account('GET', '/destinations'), 'list');
  const initial = {
    destination_id: query.get('destination_id') || '',
    status: query.get('status') || '',
    canonical: query.get('canonical') || '',
    created_after: query.get('created_after') || '',
    created_before: query.get('created_before') || '',
  };
  const [filter, setFilter] = useState(initial);
  const [applied, setApplied] = useState(initial);
  const [pages, setPages] = useState({ items: [], next: null, loading: true });
  const load = async (cursor) => {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(applied)) {
      if (value) params.set(name, name.startsWith('created_') ? new Date(value).toISOString() : value);
    }
    params.set('limit', '50');
    if (cursor) params.set('cursor', cursor);
    try {
      const page = await account('GET', `/deliveries?${params}`);
      setPages((previous) => ({ items: cursor ? [...previous.items, ...page.items] : page.items, next: page.next_cursor }));
    } catch (error) {
      setPages({ items: [], next: null, error });
    }
  };
  useEffect(() => {
    setPages({ items: [], next: null, loading: true });
    load(undefined);
  }, [JSON.stringify(applied)]);
  const field = (name) => ({ value: filter[name], onInput: (e) => setFilter({ ...filter, [name]: e.currentTarget.value }) });
  const names = new Map((destinations.data || []).map((d) => [d.id, d.name]));
  return html`
    <section aria-labelledby="deliveries-title">
      <h1 id="deliveries-title">Deliveries</h1>
      <form class="filters" onSubmit=${(e) => {
        e.preventDefault();
        setApplied(filter);
      }}>
        <div><label for="f-destination">Destination</label>
          <select id="f-destination" ...${field('destination_id')}>
            <option value="">All</option>
            ${(destinations.data || []).map((d) => html`<option value=${d.id}>${d.name}</option>`)}
          </select></div>
        <div><label for="f-status">Status</label>
          <select id="f-status" ...${field('status')}><option value="">All</option>${STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}</select></div>
        <div><label for="f-event">Event</label>
          <select id="f-event" ...${field('canonical')}><option value="">All</option>${CANONICAL_EVENTS.map((c) => html`<option value=${c}>${c}</option>`)}</select></div>
        <div><label for="f-after">Created from</label><input id="f-after" type="datetime-local" ...${field('created_after')} /></div>
        <div><label for="f-before">Created before</label><input id="f-before" type="datetime-local" ...${field('created_before')} /></div>
        <div><button type="submit">Filter</button></div>
      </form>
      ${pages.loading && html`<${Loading} />`}
      <${ErrorNote} error=${pages.error} />
      ${!pages.loading && !pages.error && pages.items.length === 0 && html`<p>No deliveries match.</p>`}
      ${pages.items.length > 0 &&
      html`<table>
        <thead><tr><th scope="col">Delivery</th><th scope="col">Destination</th><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last answer</th><th scope="col">Created</th></tr></thead>
        <tbody>${pages.items.map(
          (d) => html`<tr key=${d.event_id}>
            <td><a class="mono" href=${`#/deliveries/${d.event_id}`}>${d.event_id.slice(0, 12)}…</a></td>
            <td>${names.get(d.destination_id) || d.destination_id}</td>
            <td>${d.canonical} → ${d.event}</td>
            <td><${StatusBadge} status=${d.status} /></td>
            <td>${d.attempt_count}</td>
            <td>${d.last_status_code === null ? d.last_error || '—' : `HTTP ${d.last_status_code}`}</td>
            <td>${when(d.created_at)}</td>
          </tr>`,
        )}</tbody>
      </table>`}
      ${pages.next && html`<button type="button" onClick=${() => load(pages.next)}>Load more</button>`}
    </section>`;
}

function DeliveryDetail({ eventId, session }) {
  const delivery = useLoad(() => account('GET', `/deliveries/${eventId}`), eventId);
  const action = useAction(() => delivery.reload());
  const status = delivery.data && delivery.data.status;
  // While a delivery is in flight the page follows it, so a retry is seen to end.
  useEffect(() => {
    if (!status || !OPEN.has(status)) return undefined;
    const timer = setTimeout(() => delivery.reload(), 1000);
    return () => clearTimeout(timer);
  }, [status, delivery.data]);
  if (delivery.loading && !delivery.data) return html`<${Loading} />`;
  if (delivery.error) {
    return html`<section aria-labelledby="delivery-title"><h1 id="delivery-title">Delivery</h1>
      ${delivery.error instanceof ApiError && delivery.error.status === 404
        ? html`<p class="error" role="alert">Delivery not found: this account has no delivery ${eventId}.</p>`
        : html`<${ErrorNote} error=${delivery.error} />`}
      <p><a href="#/deliveries">All deliveries</a></p></section>`;
  }
  const d = delivery.data;
  const write = !session.read_only;
  return html`
    <section aria-labelledby="delivery-title">
      <div class="heading">
        <h1 id="delivery-title">Delivery <span class="mono">${d.event_id}</span></h1>
        <${StatusBadge} status=${d.status} />
      </div>
      <dl class="facts">
        <dt>Event</dt><dd>${d.canonical} → ${d.event}</dd>
        <dt>Destination</dt><dd><a href=${`#/destinations/${d.destination_id}`}>${d.destination_id}</a></dd>
        <dt>Created</dt><dd>${when(d.created_at)}</dd>
        <dt>Completed</dt><dd>${when(d.completed_at)}</dd>
        ${d.next_attempt_at && html`<dt>Next attempt</dt><dd>${when(d.next_attempt_at)}</dd>`}
      </dl>
      ${write &&
      html`<div class="actions" role="group" aria-label="Delivery actions">
        ${['failed', 'cancelled', 'skipped'].includes(d.status) && html`<button type="button" disabled=${action.busy} onClick=${() => action.run('Retry started', () => account('POST', `/deliveries/${d.event_id}/retry`))}>Retry</button>`}
        ${OPEN.has(d.status) && html`<button type="button" disabled=${action.busy} onClick=${() => action.run('Cancelled', () => account('POST', `/deliveries/${d.event_id}/cancel`))}>Cancel</button>`}
      </div>`}
      ${action.note}
      <h2>Attempts</h2>
      ${d.attempts.length === 0
        ? html`<p>No attempt yet.</p>`
        : html`<table class="attempts">
            <thead><tr><th scope="col">#</th><th scope="col">Started</th><th scope="col">Status</th><th scope="col">Duration</th><th scope="col">Error</th><th scope="col">Response</th></tr></thead>
            <tbody>${d.attempts.map(
              (a, index) => html`<tr key=${index}>
                <td>${a.attempt}</td>
                <td>${when(a.started_at)}</td>
                <td>${a.status_code === null ? '—' : a.status_code}</td>
                <td>${a.duration_ms} ms</td>
                <td>${a.error || '—'}</td>
                <td>${a.response_body ? html`<pre class="excerpt">${a.response_body}</pre>` : '—'}</td>
              </tr>`,
            )}</tbody>
          </table>`}
      <h2>Body</h2>
      <pre class="body" tabindex="0" aria-label="Request body">${JSON.stringify(d.body, null, 2)}</pre>
    </section>`;
}

function Page({ session, features }) {
  const { parts, query } = useRoute();
  const [section = 'destinations', id, sub] = parts;
  let view;
  if (section === 'destinations' && id === 'new') view = html`<${DestinationForm} features=${features} />`;
  else if (section === 'destinations' && id && sub === 'edit') view = html`<${DestinationForm} id=${id} features=${features} key=${id} />`;
  else if (section === 'destinations' && id) view = html`<${DestinationDetail} id=${id} session=${session} features=${features} />`;
  else if (section === 'deliveries' && id) view = html`<${DeliveryDetail} eventId=${id} session=${session} />`;
  else if (section === 'deliveries') view = html`<${DeliveriesList} query=${query} key=${query.toString()} />`;
  else if (section === 'verify') view = html`<${Snippets} />`;
  else view = html`<${DestinationsList} session=${session} />`;
  const current = (name) => (section === name ? 'page' : undefined);
  return html`
    <header class="top">
      <span class="brand">Webhooks</span>
      <nav aria-label="Portal">
        <a href="#/destinations" aria-current=${current('destinations')}>Destinations</a>
        <a href="#/deliveries" aria-current=${current('deliveries')}>Deliveries</a>
        <a href="#/verify" aria-current=${current('verify')}>Verify signatures</a>
      </nav>
      <span class="session">${session.account_id}${session.read_only ? ' · read-only' : ''} · until ${when(session.expires_at)}</span>
    </header>
    <main id="main">${view}</main>`;
}

function App() {
  const [state, setState] = useState({});
  useEffect(() => {
    Promise.all([loadSession(), loadFeatures()]).then(
      ([session, features]) => setState({ session, features }),
      (error) => setState({ error }),
    );
  }, []);
  if (state.error) {
    const ended = state.error instanceof ApiError && state.error.status === 401;
    return html`<main id="main" class="notice"><h1>${ended ? 'Your portal session has ended' : 'The portal could not start'}</h1>
      <p>${ended ? 'Open a new portal link from your XTRACKER dashboard.' : state.error.message}</p></main>`;
  }
  if (!state.session) return html`<main id="main"><${Loading} /></main>`;
  return html`<${Page} session=${state.session} features=${state.features} />`;
}

render(html`<${App} />`, document.getElementById('app'));
