import { useEffect, useState } from 'preact/hooks';
import { account } from './api.js';
import { CANONICAL_EVENTS, ErrorNote, html } from './ui.js';

const RETRY_FIELDS = [
  ['initial_interval_ms', 'First retry after (ms)'],
  ['backoff_coefficient', 'Backoff coefficient'],
  ['max_interval_ms', 'Longest interval (ms)'],
  ['max_attempts', 'Attempts (0 = as many as fit)'],
  ['max_age_ms', 'Retry window (ms)'],
];

function fromDestination(d) {
  return {
    name: d ? d.name : '',
    url: d ? d.url : '',
    method: d ? d.method : '',
    enabled: d ? d.enabled : true,
    event_map: Object.fromEntries(CANONICAL_EVENTS.map((c) => [c, (d && d.event_map[c]) || ''])),
    headers: d ? Object.keys(d.headers).map((name) => ({ name, value: '' })) : [],
    timeout_ms: d ? String(d.timeout_ms) : '',
    rate_limit_per_second: d && d.rate_limit_per_second !== null ? String(d.rate_limit_per_second) : '',
    max_in_flight: d ? String(d.max_in_flight) : '',
    retry_policy: Object.fromEntries(RETRY_FIELDS.map(([key]) => [key, d ? String(d.retry_policy[key]) : ''])),
    format: (d && d.format) || 'json',
    url_template: (d && d.url_template) || '',
    template_secrets: d && d.template_secrets ? Object.keys(d.template_secrets).map((name) => ({ name, value: '' })) : [],
    success_body: (d && d.success_body) || '',
    filter: {
      campaign_ids: d && d.filter && d.filter.campaign_ids ? d.filter.campaign_ids.join(', ') : '',
      countries: d && d.filter && d.filter.countries ? d.filter.countries.join(', ') : '',
      min_value: (d && d.filter && d.filter.min_value) || '',
    },
  };
}

const list = (text) => text.split(',').map((item) => item.trim()).filter((item) => item !== '');

/** The routing rules as the API takes them: only the rules given; none at all = null (every event). */
function filterBody(filter) {
  const out = {};
  if (list(filter.campaign_ids).length > 0) out.campaign_ids = list(filter.campaign_ids);
  if (list(filter.countries).length > 0) out.countries = list(filter.countries).map((country) => country.toUpperCase());
  if (filter.min_value.trim() !== '') out.min_value = filter.min_value.trim();
  return Object.keys(out).length === 0 ? null : out;
}

/** Name/value rows of a write-only map (headers, template secrets): every value is typed again. */
function SecretRows({ rows, onChange, idPrefix, nameLabel }) {
  return html`${rows.map((row, index) => html`<div class="row" key=${index}>
      <label for=${`${idPrefix}-name-${index}`}>${nameLabel}</label>
      <input id=${`${idPrefix}-name-${index}`} value=${row.name} onInput=${(e) => onChange(rows.map((r, i) => (i === index ? { ...r, name: e.currentTarget.value } : r)))} />
      <label for=${`${idPrefix}-value-${index}`}>Value</label>
      <input id=${`${idPrefix}-value-${index}`} type="password" autocomplete="off" required value=${row.value} onInput=${(e) => onChange(rows.map((r, i) => (i === index ? { ...r, value: e.currentTarget.value } : r)))} />
      <button type="button" onClick=${() => onChange(rows.filter((_, i) => i !== index))}>Remove ${row.name || 'row'}</button>
    </div>`)}
    <button type="button" onClick=${() => onChange([...rows, { name: '', value: '' }])}>Add ${nameLabel.toLowerCase()}</button>`;
}

const toMap = (rows) => Object.fromEntries(rows.filter((row) => row.name.trim() !== '').map((row) => [row.name.trim(), row.value]));

const optionalNumber = (text) => (text.trim() === '' ? null : Number(text));

/**
 * Create, or edit only what was changed: a PATCH carries the touched fields alone, so effective
 * values shown (defaults included) never become stored overrides by accident. Header values are
 * write-only: editing replaces the whole set, every value typed again.
 */
export function DestinationForm({ id, features = {} }) {
  const [loaded, setLoaded] = useState(id ? undefined : null);
  const [form, setForm] = useState(fromDestination(undefined));
  const [touched, setTouched] = useState(new Set());
  const [replaceHeaders, setReplaceHeaders] = useState(!id);
  const [state, setState] = useState({});
  useEffect(() => {
    if (!id) return;
    account('GET', `/destinations/${id}`).then(
      (d) => {
        setLoaded(d);
        setForm(fromDestination(d));
      },
      (error) => setState({ error }),
    );
  }, [id]);
  if (id && loaded === undefined) return html`<section><h1>Edit destination</h1>${state.error ? html`<${ErrorNote} error=${state.error} />` : html`<p>Loading…</p>`}</section>`;

  const set = (key, value) => {
    setForm({ ...form, [key]: value });
    setTouched(new Set([...touched, key]));
  };
  const input = (key) => ({ value: form[key], onInput: (e) => set(key, e.currentTarget.value) });

  const body = () => {
    const wanted = (key) => !id || touched.has(key);
    const out = {};
    const postback = form.format === 'postback';
    if (wanted('name')) out.name = form.name;
    if (!id && features.postback) out.format = form.format;
    if (!postback && wanted('url')) out.url = form.url;
    if (postback && wanted('url_template')) out.url_template = form.url_template;
    if (postback && replaceHeaders && (!id || touched.has('template_secrets'))) out.template_secrets = toMap(form.template_secrets);
    if (features.successBody && touched.has('success_body')) out.success_body = form.success_body === '' ? null : form.success_body;
    if (features.filter && touched.has('filter')) out.filter = filterBody(form.filter);
    // Untouched, the server's default for the format applies (POST for JSON, GET for postbacks).
    if (touched.has('method')) out.method = form.method;
    if (wanted('enabled')) out.enabled = form.enabled;
    if (wanted('event_map')) out.event_map = Object.fromEntries(Object.entries(form.event_map).filter(([, target]) => target.trim() !== ''));
    if (replaceHeaders && (!id || touched.has('headers'))) out.headers = toMap(form.headers);
    if (touched.has('timeout_ms')) out.timeout_ms = optionalNumber(form.timeout_ms);
    if (touched.has('rate_limit_per_second')) out.rate_limit_per_second = optionalNumber(form.rate_limit_per_second);
    if (touched.has('max_in_flight')) out.max_in_flight = optionalNumber(form.max_in_flight);
    if (touched.has('retry_policy')) {
      out.retry_policy = Object.fromEntries(Object.entries(form.retry_policy).filter(([, v]) => v.trim() !== '').map(([k, v]) => [k, Number(v)]));
    }
    return out;
  };

  const submit = async (event) => {
    event.preventDefault();
    setState({ busy: true });
    try {
      const saved = id ? await account('PATCH', `/destinations/${id}`, body()) : await account('POST', '/destinations', body());
      setState({ saved });
      if (id) location.hash = `#/destinations/${saved.id}`;
    } catch (error) {
      setState({ error });
    }
  };

  if (state.saved && !id) {
    return html`<section aria-labelledby="created-title"><h1 id="created-title">Destination created</h1>
      <div class="secret" role="status">
        <p><strong>Signing secret — shown once.</strong> Store it now: receivers verify every request with it.</p>
        <label for="created-secret">Signing secret</label>
        <input id="created-secret" readonly value=${state.saved.signing_secret} />
      </div>
      <p><a class="button" href=${`#/destinations/${state.saved.id}`}>Open ${state.saved.name}</a></p></section>`;
  }

  return html`<section aria-labelledby="form-title">
    <h1 id="form-title">${id ? `Edit ${loaded.name}` : 'New destination'}</h1>
    <form class="form" onSubmit=${submit}>
      <label for="d-name">Name</label><input id="d-name" required maxlength="200" ...${input('name')} />
      ${features.postback && !id && html`<label for="d-format">Format</label>
        <select id="d-format" ...${input('format')}><option value="json">JSON body (Standard Webhooks)</option><option value="postback">Postback URL (S2S)</option></select>`}
      ${form.format === 'postback'
        ? html`<label for="d-template">URL template</label><input id="d-template" required ...${input('url_template')} />
            <p class="hint">Macros such as {uid}, {event}, {value}, {currency} and {secret.NAME} for a template secret.</p>`
        : html`<label for="d-url">URL</label><input id="d-url" type="url" required ...${input('url')} />`}
      <label for="d-method">Method</label>
      <select id="d-method" ...${input('method')}>${(form.format === 'postback' ? ['GET', 'POST'] : ['POST', 'PUT', 'PATCH']).map((m) => html`<option value=${m}>${m}</option>`)}</select>
      <div class="check"><input id="d-enabled" type="checkbox" checked=${form.enabled} onChange=${(e) => set('enabled', e.currentTarget.checked)} /><label for="d-enabled">Enabled</label></div>

      <fieldset><legend>Events sent (leave empty to not send)</legend>
        ${CANONICAL_EVENTS.map((canonical) => html`<div class="row"><label for=${`e-${canonical}`}>${canonical} is sent as</label>
          <input id=${`e-${canonical}`} value=${form.event_map[canonical]} onInput=${(e) => set('event_map', { ...form.event_map, [canonical]: e.currentTarget.value })} /></div>`)}
      </fieldset>

      <fieldset><legend>${form.format === 'postback' ? 'Custom headers and template secrets' : 'Custom headers'}</legend>
        ${id && !replaceHeaders
          ? html`<p>${loaded && Object.keys(loaded.headers).length > 0 ? Object.keys(loaded.headers).map((name) => `${name}: ********`).join(', ') : 'No headers.'} Values are write-only.</p>
              <button type="button" onClick=${() => setReplaceHeaders(true)}>Replace headers${form.format === 'postback' ? ' and secrets' : ''}</button>`
          : html`<${SecretRows} rows=${form.headers} onChange=${(rows) => set('headers', rows)} idPrefix="h" nameLabel="Header" />
              ${form.format === 'postback' && html`<${SecretRows} rows=${form.template_secrets} onChange=${(rows) => set('template_secrets', rows)} idPrefix="t" nameLabel="Secret" />`}`}
      </fieldset>

      ${features.filter && html`<fieldset><legend>Only send events whose click matches (empty: every event)</legend>
        <div class="row"><label for="f-campaigns">Campaign ids (comma-separated)</label><input id="f-campaigns" value=${form.filter.campaign_ids} onInput=${(e) => set('filter', { ...form.filter, campaign_ids: e.currentTarget.value })} /></div>
        <div class="row"><label for="f-countries">Countries (ISO codes, comma-separated)</label><input id="f-countries" value=${form.filter.countries} onInput=${(e) => set('filter', { ...form.filter, countries: e.currentTarget.value })} /></div>
        <div class="row"><label for="f-min">Minimum deposit value</label><input id="f-min" inputmode="decimal" value=${form.filter.min_value} onInput=${(e) => set('filter', { ...form.filter, min_value: e.currentTarget.value })} /></div>
      </fieldset>`}
      ${features.successBody && html`<div class="row"><label for="d-success">A 2xx counts only when its body contains (empty: any 2xx)</label><input id="d-success" ...${input('success_body')} /></div>`}

      <fieldset><legend>Retry policy</legend>
        ${RETRY_FIELDS.map(([key, label]) => html`<div class="row"><label for=${`r-${key}`}>${label}</label>
          <input id=${`r-${key}`} inputmode="decimal" value=${form.retry_policy[key]} onInput=${(e) => set('retry_policy', { ...form.retry_policy, [key]: e.currentTarget.value })} /></div>`)}
      </fieldset>

      <fieldset><legend>Limits</legend>
        <div class="row"><label for="d-timeout">Timeout per attempt (ms, empty = default)</label><input id="d-timeout" inputmode="numeric" ...${input('timeout_ms')} /></div>
        <div class="row"><label for="d-rate">Requests per second (empty = account default)</label><input id="d-rate" inputmode="decimal" ...${input('rate_limit_per_second')} /></div>
        <div class="row"><label for="d-inflight">Attempts in flight at once (empty = default)</label><input id="d-inflight" inputmode="numeric" ...${input('max_in_flight')} /></div>
      </fieldset>
      <${ErrorNote} error=${state.error} />
      <div class="actions">
        <button type="submit" disabled=${state.busy}>${id ? 'Save changes' : 'Create destination'}</button>
        <a href=${id ? `#/destinations/${id}` : '#/destinations'}>Cancel</a>
      </div>
    </form>
  </section>`;
}
