// The portal talks to the same /v1 API as every key, authorised by its HttpOnly session cookie
// (sent by the browser on these same-origin requests); every write carries the session's CSRF token.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let session;

/** Asks the server who this page is; throws ApiError(401) when the session has ended. */
export async function loadSession() {
  session = await request('GET', '/portal/api/session');
  return session;
}

/** A request under the session's account: `account('GET', '/destinations')`. */
export function account(method, path, body) {
  return request(method, `/v1/accounts/${encodeURIComponent(session.account_id)}${path}`, body);
}

async function request(method, url, body) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && session) headers['x-csrf-token'] = session.csrf_token;
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const text = await response.text();
  let data;
  try {
    data = text === '' ? undefined : JSON.parse(text);
  } catch {
    data = undefined;
  }
  if (!response.ok) throw new ApiError(response.status, (data && data.message) || `HTTP ${response.status}`);
  return data;
}

/**
 * Routes other issues add (test events, recovery) and destination fields (filters) are looked up
 * in the API's own OpenAPI document, so the page offers them exactly where the server has them —
 * without calling a write route to find out.
 */
export async function loadFeatures() {
  try {
    const document = await request('GET', '/openapi.json');
    const paths = Object.keys(document.paths || {});
    const schemas = (document.components && document.components.schemas) || {};
    const create = schemas.CreateDestinationDto || { properties: {} };
    // Whatever the path parameter is called: {id}, {destination_id}…
    const destinationRoute = (action) => paths.some((path) => new RegExp(`^/v1/accounts/\\{account_id\\}/destinations/\\{[^}]+\\}/${action}$`).test(path));
    return {
      testEvent: destinationRoute('test'),
      recover: destinationRoute('recover'),
      filter: has(create, 'filter'),
      postback: has(create, 'url_template'),
      successBody: has(create, 'success_body'),
    };
  } catch {
    return { testEvent: false, recover: false, filter: false, postback: false, successBody: false };
  }
}

function has(schema, property) {
  return Boolean(schema.properties && schema.properties[property]);
}
