// Calls to the node: GET /v1/<read>?query and POST /v1/<write> with the session cookie and the
// session's CSRF token. A refusal becomes a NodeError carrying the node's own readable message.

export class NodeError extends Error {
  constructor(code, message, status, details) {
    super(message);
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

const session = { csrf: null, scope: null };
const loggedOutListeners = new Set();

export const scope = () => session.scope;
export const canAct = () => session.scope === "admin";
export const canInvoice = () => session.scope === "admin" || session.scope === "invoice";
/** The screens a token's scope can use: an invoice token sees invoices only. */
export const screensAllowed = () => (session.scope === "invoice" ? ["invoices"] : ["overview", "channels", "payments", "invoices"]);
export function onLoggedOut(listener) {
  loggedOutListeners.add(listener);
}

async function request(method, path, body) {
  const headers = { accept: "application/json" };
  if (method !== "GET") {
    headers["content-type"] = "application/json";
    if (session.csrf !== null) headers["x-csrf-token"] = session.csrf;
  }
  let reply;
  try {
    reply = await fetch(path, { method, headers, credentials: "same-origin", ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  } catch {
    throw new NodeError("OFFLINE", "The node does not answer: is it running?", 0);
  }
  const text = await reply.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!reply.ok) {
    const error = parsed?.error ?? {};
    if (reply.status === 401 && path !== "/dashboard/login") {
      session.csrf = null;
      for (const listener of loggedOutListeners) listener(error.message);
    }
    throw new NodeError(error.code ?? `HTTP_${reply.status}`, error.message ?? `The node answered ${reply.status} ${reply.statusText}.`, reply.status, error.details);
  }
  return parsed;
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  const text = search.toString();
  return text === "" ? "" : `?${text}`;
}

export const read = (method, params = {}) => request("GET", `/v1/${method}${query(params)}`);
export const write = (method, body = {}) => request("POST", `/v1/${method}`, body);

export async function login(token) {
  const answer = await request("POST", "/dashboard/login", { token });
  Object.assign(session, { csrf: answer.csrf, scope: answer.scope });
  return answer;
}

export async function resume() {
  const answer = await request("GET", "/dashboard/session");
  Object.assign(session, { csrf: answer.csrf, scope: answer.scope });
  return answer;
}

export async function logout() {
  await request("POST", "/dashboard/logout", {});
  Object.assign(session, { csrf: null, scope: null });
}

const assets = new Map();
/** { symbol, decimals } of an asset, asked once. */
export function assetInfo(asset) {
  const key = asset.toLowerCase();
  if (!assets.has(key)) {
    const pending = read("asset", { asset }).catch((error) => {
      assets.delete(key);
      throw error;
    });
    assets.set(key, pending);
  }
  return assets.get(key);
}
