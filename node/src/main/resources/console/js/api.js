// The admin REST API, same origin. The token lives in this module's memory only: never in the
// URL, localStorage or sessionStorage; a reload or logout forgets it.
let token = null;
const listeners = [];

export function setToken(t) { token = t; }
export function signedIn() { return token !== null; }
export function onUnauthorized(f) { listeners.push(f); }

export class ApiError extends Error {
  constructor(status, body, fallback) {
    super((body && body.error) || fallback);
    this.status = status;
    this.body = body;
    this.problems = (body && body.problems) || [];
  }
}

function describe(status) {
  if (status === 401) return 'The admin token was refused (401). Sign in again with the token from admin.token.';
  if (status === 404) return 'Not found (404).';
  if (status === 503) return 'The node could not complete the request in time (503); try again.';
  return 'The request failed with HTTP ' + status + '.';
}

/** Calls the admin API; resolves with the JSON body, rejects with an ApiError whose message is in words. */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (token !== null) headers.Authorization = 'Bearer ' + token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit', cache: 'no-store', redirect: 'error', referrerPolicy: 'no-referrer',
    });
  } catch (e) {
    throw new ApiError(0, null, 'The node could not be reached (' + e.message + ').');
  }
  let json = null;
  const text = await res.text();
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!res.ok) {
    if (res.status === 401 && token !== null) listeners.forEach((f) => f());
    throw new ApiError(res.status, json, describe(res.status));
  }
  return json;
}

export const get = (p) => api('GET', p);
export const put = (p, b) => api('PUT', p, b);
export const del = (p) => api('DELETE', p);
export const post = (p, b) => api('POST', p, b);

/** An error as words, with the config reader's path-precise problems when there are any. */
export function explain(e) {
  if (e instanceof ApiError && e.problems.length) {
    return e.message;
  }
  return e && e.message ? e.message : String(e);
}
