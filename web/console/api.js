// Calls to Flotilla's JSON API with the session cookie. The browser sends the page's Origin
// with every POST, PATCH and DELETE, which is the server's CSRF check for cookie callers.

const account = document.body.dataset.account;

/** A refused or failed call: `message` is the problem's detail, `problem` the whole body. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `The server answered ${status}.`);
    this.status = status;
    this.problem = problem;
  }
}

/** `method path` with an optional JSON body; the JSON answer (or null for 204). */
export async function call(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { detail: 'Flotilla cannot be reached: check your connection and try again.' });
  }
  if (response.status === 401) {
    // The session ended (expired, or logged out elsewhere): log in and come back here.
    location.assign(`/login?return_to=${encodeURIComponent(location.pathname)}`);
    throw new ApiError(401, { detail: 'Your session has ended; taking you to the log-in page.' });
  }
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') || '';
  const data = type.includes('json') ? await response.json() : { detail: await response.text() };
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** The path of `rest` under this page's account: `accountPath('/clusters')`. */
export function accountPath(rest = '') {
  return `/api/v1/accounts/${encodeURIComponent(account)}${rest}`;
}

/** `GET` under this page's account. */
export function get(rest, query) {
  const search = query ? `?${new URLSearchParams(query)}` : '';
  return call('GET', accountPath(rest) + search);
}

/** A name as one path segment. */
export function segment(name) {
  return encodeURIComponent(name);
}
