// The management API, from the page the same server serves: JSON in and out, the token (when the
// server asks for one) as a bearer token, and every error as an ApiError with the API's code.

const TOKEN_KEY = 'sagebus.console.token';
let token = sessionStorage.getItem(TOKEN_KEY);
const unauthorizedListeners = [];

/** An error answer of the API ({"status", "error", "message", ...}), or a server that could not be reached (status 0). */
export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : 'HTTP ' + status);
    this.status = status;
    this.code = body && body.error ? body.error : 'HTTP_' + status;
    this.body = body || {};
  }
}

/** {@return whether the page holds a token} */
export function hasToken() {
  return !!token;
}

/** Keeps a token for this tab (sessionStorage), or forgets it when empty. */
export function setToken(value) {
  token = value ? value.trim() : null;
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** Calls fn(error, hadToken) on every 401. */
export function onUnauthorized(fn) {
  unauthorizedListeners.push(fn);
}

/**
 * One request.
 * @param {string} method GET, POST, DELETE
 * @param {string} path the API path, e.g. /jobs
 * @param {*} [body] a JSON body (state-changing requests always carry Content-Type: application/json)
 * @param {number[]} [alsoOk] statuses answered with a JSON body worth reading (503 of /health/ready)
 */
export async function api(method, path, body, alsoOk = []) {
  const headers = { Accept: 'application/json' };
  const sent = token;
  if (sent) headers.Authorization = 'Bearer ' + sent;
  const init = { method, headers, cache: 'no-store', credentials: 'omit', redirect: 'error' };
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    if (body !== undefined) init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, { error: 'UNREACHABLE', message: 'The server does not answer (' + e.message + ')' });
  }
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch (e) {
    json = null;
  }
  if (response.ok || alsoOk.includes(response.status)) return json;
  const error = new ApiError(response.status, json || { error: 'HTTP_' + response.status, message: text.slice(0, 300) });
  // An answer to a request sent with a token the page has since replaced says nothing about the new one.
  if (response.status === 401 && sent === token) unauthorizedListeners.forEach(fn => fn(error, !!sent));
  throw error;
}

/** {@return the path of a job, service or pipeline: the name percent-encoded} */
export function path(prefix, name, suffix = '') {
  return prefix + '/' + encodeURIComponent(name) + suffix;
}
