/**
 * The dashboard's side of the node's HTTP server: the page and its files, login and logout, the
 * one-time login link, the invoice QR codes, and the rule that lets the page (and only the page)
 * call the API with its session:
 *
 * - A request with an `Origin` header other than the server's own is refused (403 FORBIDDEN), as
 *   every browser request was before the dashboard.
 * - Without an `Origin`, a bearer token authenticates exactly as before.
 * - Otherwise the session cookie does: its scope is the scope of the token it was made from (a
 *   revoked token ends it), and a request other than GET must carry the session's CSRF token in
 *   `X-CSRF-Token`.
 *
 * | route                     | who                    | what                                                |
 * |---------------------------|------------------------|-----------------------------------------------------|
 * | GET /, GET /ui/<file>     | anyone                 | the page, its scripts and styles (CSP: self only)   |
 * | POST /dashboard/login     | the page               | `{ token }` → session cookie, `{ scope, csrf }`     |
 * | GET /dashboard/login?code | a one-time link        | session cookie, then 303 to /                       |
 * | GET /dashboard/session    | a session              | `{ scope, csrf, expiresAt }`                        |
 * | POST /dashboard/logout    | a session (+ CSRF)     | ends it (a live session without its CSRF: refused)  |
 * | POST /dashboard/link      | a bearer token         | `{ url, expiresAt }`: a one-time login link         |
 * | GET /dashboard/qr?text=   | a session              | the text as a QR code (SVG)                         |
 */
import type http from "node:http";
import QRCode from "qrcode";
import type { Scope } from "../node/api/access";
import { PAGE_HEADERS, sendHtmlNotice, serveStatic, staticFileOf } from "./pages";
import { sameSecret, sha256Hex, SessionBook, type Session } from "./sessions";

export interface DashboardContext {
  book: SessionBook;
  /** The server's own origin for the request's `Host` (a loopback name and the server's port), else undefined. */
  ownOrigin(req: http.IncomingMessage): string | undefined;
  /** The scope of the token whose sha256 is `hash` (admin, or a live scoped token), else undefined. */
  scopeOfHash(hash: string): Scope | undefined;
  /** The scope and token hash of the request's `Authorization: Bearer` header, if it is a valid token. */
  bearer(req: http.IncomingMessage): { scope: Scope; hash: string } | undefined;
  /** The server's URL (`http://127.0.0.1:PORT`). */
  url(): string;
  /** The largest login body read. */
  maxBodyBytes: number;
}

export interface Refusal {
  status: number;
  code: string;
  message: string;
}

export const FOREIGN_ORIGIN: Refusal = { status: 403, code: "FORBIDDEN", message: "requests from browsers are not accepted (only the dashboard's own page may call the API)" };
const NO_SESSION: Refusal = { status: 401, code: "UNAUTHORIZED", message: "not logged in, or the session expired: log in again with an API token" };
const BAD_CSRF: Refusal = { status: 403, code: "FORBIDDEN", message: "missing or wrong CSRF token (X-CSRF-Token): reload the page" };
const WRONG_TOKEN: Refusal = { status: 401, code: "UNAUTHORIZED", message: "wrong or revoked API token" };

/** The cookie of the server at `port` (cookies ignore ports: two nodes on one host need two names). */
export function cookieName(url: string): string {
  return `sluice_session_${new URL(url).port}`;
}

function cookieOf(req: http.IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store", ...headers });
  res.end(text);
}

export function refuse(res: http.ServerResponse, refusal: Refusal): void {
  json(res, refusal.status, { error: { code: refusal.code, message: refusal.message } }, { connection: "close" });
}

/** The live session of the request's cookie and its scope now, else undefined. */
function sessionOf(req: http.IncomingMessage, ctx: DashboardContext): { id: string; session: Session; scope: Scope } | undefined {
  const id = cookieOf(req, cookieName(ctx.url()));
  const session = ctx.book.find(id);
  if (id === undefined || session === undefined) return undefined;
  const scope = ctx.scopeOfHash(session.tokenHash);
  if (scope === undefined) {
    ctx.book.close(id);
    return undefined;
  }
  return { id, session, scope };
}

const isSafeMethod = (req: http.IncomingMessage) => req.method === "GET" || req.method === "HEAD";

/**
 * Who makes an API request: its scope, or why it is refused. Bearer clients (no `Origin`) are
 * judged exactly as before the dashboard; `undefined` means "no bearer header and no session".
 */
export function authorizeApi(req: http.IncomingMessage, ctx: DashboardContext): { scope: Scope } | Refusal | undefined {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== ctx.ownOrigin(req)) return FOREIGN_ORIGIN;
  if (origin === undefined && req.headers.authorization !== undefined) {
    const bearer = ctx.bearer(req);
    return bearer === undefined ? undefined : { scope: bearer.scope };
  }
  const found = sessionOf(req, ctx);
  if (found === undefined) return origin === undefined ? undefined : NO_SESSION;
  if (!isSafeMethod(req) && !sameSecret(String(req.headers["x-csrf-token"] ?? ""), found.session.csrf)) return BAD_CSRF;
  return { scope: found.scope };
}

function sessionCookie(ctx: DashboardContext, id: string, maxAgeMs: number): string {
  return `${cookieName(ctx.url())}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(maxAgeMs / 1000)}`;
}

async function readJson(req: http.IncomingMessage, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) return undefined;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

function startSession(res: http.ServerResponse, ctx: DashboardContext, tokenHash: string): Session {
  const { id, session } = ctx.book.open(tokenHash);
  res.setHeader("set-cookie", sessionCookie(ctx, id, ctx.book.sessionMs));
  return session;
}

/** Handles the request if it is the dashboard's (true), else leaves it to the API (false). */
export async function handleDashboard(req: http.IncomingMessage, res: http.ServerResponse, ctx: DashboardContext): Promise<boolean> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const file = staticFileOf(url.pathname);
  if (file !== undefined) {
    if (!isSafeMethod(req)) return false;
    if (ctx.ownOrigin(req) === undefined) {
      // A page under another host name (DNS rebinding) would be another origin holding our data.
      refuse(res, { status: 403, code: "FORBIDDEN", message: "open the dashboard at the node's own address (127.0.0.1 or localhost and its port)" });
      return true;
    }
    await serveStatic(res, file);
    return true;
  }
  if (!url.pathname.startsWith("/dashboard/")) return false;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== ctx.ownOrigin(req)) {
    refuse(res, FOREIGN_ORIGIN);
    return true;
  }
  const route = `${req.method ?? ""} ${url.pathname}`;
  switch (route) {
    case "POST /dashboard/login": {
      const body = await readJson(req, ctx.maxBodyBytes);
      const token = typeof body === "object" && body !== null ? (body as { token?: unknown }).token : undefined;
      const hash = typeof token === "string" ? sha256Hex(token.trim()) : undefined;
      const scope = hash === undefined ? undefined : ctx.scopeOfHash(hash);
      if (hash === undefined || scope === undefined) {
        refuse(res, WRONG_TOKEN);
        return true;
      }
      const session = startSession(res, ctx, hash);
      json(res, 200, { scope, csrf: session.csrf, expiresAt: session.expiresAt });
      return true;
    }
    case "GET /dashboard/login": {
      const hash = ctx.book.redeem(url.searchParams.get("code") ?? "");
      const scope = hash === undefined ? undefined : ctx.scopeOfHash(hash);
      if (hash === undefined || scope === undefined) {
        sendHtmlNotice(res, 401, "This login link no longer works", "A login link works once, for two minutes. Run `sluice dashboard` again, or log in with a token.");
        return true;
      }
      startSession(res, ctx, hash);
      res.writeHead(303, { ...PAGE_HEADERS, location: "/" });
      res.end();
      return true;
    }
    case "GET /dashboard/session": {
      const found = sessionOf(req, ctx);
      if (found === undefined) refuse(res, NO_SESSION);
      else json(res, 200, { scope: found.scope, csrf: found.session.csrf, expiresAt: found.session.expiresAt });
      return true;
    }
    case "POST /dashboard/logout": {
      // A live session ends only with its CSRF token (a forged POST logs no one out); a dead one just loses its cookie.
      const found = sessionOf(req, ctx);
      if (found !== undefined && !sameSecret(String(req.headers["x-csrf-token"] ?? ""), found.session.csrf)) {
        refuse(res, BAD_CSRF);
        return true;
      }
      if (found !== undefined) ctx.book.close(found.id);
      json(res, 200, { loggedOut: true }, { "set-cookie": sessionCookie(ctx, "", 0) });
      return true;
    }
    case "POST /dashboard/link": {
      const bearer = origin === undefined ? ctx.bearer(req) : undefined;
      if (bearer === undefined) {
        refuse(res, { status: 401, code: "UNAUTHORIZED", message: "a login link needs the API token (Authorization: Bearer <token>)" });
        return true;
      }
      const { code, expiresAt } = ctx.book.issueCode(bearer.hash);
      json(res, 200, { url: `${ctx.url()}/dashboard/login?code=${code}`, expiresAt, scope: bearer.scope });
      return true;
    }
    case "GET /dashboard/qr": {
      if (sessionOf(req, ctx) === undefined) {
        refuse(res, NO_SESSION);
        return true;
      }
      const text = url.searchParams.get("text") ?? "";
      if (text === "" || text.length > 2_000) {
        refuse(res, { status: 400, code: "BAD_REQUEST", message: "text: give the text to encode (1 to 2,000 characters)" });
        return true;
      }
      const svg = await QRCode.toString(text, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
      res.writeHead(200, { ...PAGE_HEADERS, "content-type": "image/svg+xml", "content-length": Buffer.byteLength(svg) });
      res.end(svg);
      return true;
    }
    default:
      refuse(res, { status: 404, code: "NOT_FOUND", message: `no route ${req.method ?? "?"} ${url.pathname}` });
      return true;
  }
}
