/**
 * The node's local HTTP API (node:http, no framework), for the CLI and local applications.
 *
 * - Binds loopback addresses only (127.0.0.0/8, ::1, "localhost"): anything else is refused.
 * - Every request carries `Authorization: Bearer <token>`: the admin token of `api.token` in the
 *   data directory (compared in constant time) or a scoped token (apiTokens.ts): otherwise 401
 *   UNAUTHORIZED. Requests with an `Origin` header (browsers) are refused with 403 FORBIDDEN,
 *   except from the dashboard's own page (`GET /`), which calls the API with its session cookie
 *   and CSRF token (src/dashboard/routes.ts).
 * - JSON in and out (see wire.ts): bigints as decimal strings; bodies up to `maxBodyBytes`
 *   (64 KiB by default; 413 PAYLOAD_TOO_LARGE above), validated strictly (400 BAD_REQUEST naming
 *   the field in `details.field`).
 * - Success: 200 with the result as JSON. Failure: `{ "error": { "code", "message", "details"? } }`
 *   with the status and code of errors.ts.
 *
 * Routes: every method of wire.ts's METHODS at `/v1/<name>`: a read (access.ts) is `GET` with its
 * fields as query parameters (query.ts), a write `POST` with a JSON object body (an empty body
 * counts as `{}`); the token's scope must allow the method (403 FORBIDDEN_SCOPE). The OpenAPI
 * document (openapi.ts, `GET /v1/openapi.json`, docs/openapi.json) lists each with its parameters,
 * result and scopes. `GET /v1/events` without `Accept: application/json` streams the event log as
 * Server-Sent Events, resumable with `Last-Event-ID` or `?after=N` (eventStream.ts).
 *
 * `GET /metrics` answers the node's metrics in Prometheus text format (admin and read-only tokens).
 *
 * Other statuses: 404 NOT_FOUND (unknown route or channel), 405 METHOD_NOT_ALLOWED (the other verb),
 * 415 UNSUPPORTED_MEDIA_TYPE (a Content-Type other than application/json), 500 INTERNAL.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { InvalidArgumentError } from "../../errors";
import { authorizeApi, handleDashboard, refuse, type DashboardContext } from "../../dashboard/routes";
import { SessionBook, type SessionBookOptions } from "../../dashboard/sessions";
import { mapError, type MappedError } from "./codes";
import { allows, ScopeError, scopesOf, verbOf, type Scope } from "./access";
import { resumePoint, streamEvents, type EventFeed } from "./eventStream";
import { explainError } from "./explain";
import { openApiDocument } from "./openapi";
import { bodyOfQuery } from "./query";
import { ensureApiToken, removeApiInfo, writeApiInfo } from "./token";
import type { NodeApi } from "./types";
import { isMethodName, METHODS, WireFormatError, type Json, type Method, type MethodName } from "./wire";

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

export interface ApiServerOptions {
  api: NodeApi;
  /** A loopback address: "127.0.0.1" (default), another 127.x.y.z, "::1" or "localhost". */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  token: string;
  maxBodyBytes?: number;
  /** Called with every error that became a 500 INTERNAL reply (default: logged to stderr). */
  onInternalError?: (error: unknown) => void;
  /** The event log `GET /v1/events` streams (404 without it). */
  events?: EventFeed;
  /** Tokens other than the admin token of `token` (scoped, revocable). */
  tokens?: TokenRegistry;
  /** The dashboard's session and login-link lifetimes (default: `SLUICE_DASHBOARD_SESSION_MS` or 12 h, 2 min). */
  dashboard?: SessionBookOptions;
  /** What `GET /metrics` serves (404 without it): the node's `NodeMetrics`. */
  metrics?: MetricsSource;
}

/** Metrics in Prometheus text format. */
export interface MetricsSource {
  contentType: string;
  text(): Promise<string>;
}

/** The scoped tokens a node issued, by the sha256 of the token (hex); undefined if unknown or revoked. */
export interface TokenRegistry {
  scopeOf(tokenHash: string): Scope | undefined;
}

export interface ApiServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  host: string;
  close(): Promise<void>;
}

/** Whether `host` is a loopback address this server may bind. */
export function isLoopbackHost(host: string): boolean {
  if (host === "localhost") return true;
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (net.isIPv4(bare)) return bare.split(".")[0] === "127";
  if (net.isIPv6(bare)) return bare === "::1" || /^(0{1,4}:){7}0{0,3}1$/.test(bare) || /^::ffff:127\./i.test(bare);
  return false;
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/**
 * The scope of the token in an Authorization header: admin for the data directory's token
 * (compared in constant time), else what the registry says of its hash; undefined if none.
 */
function scopeOf(header: string | undefined, admin: Buffer, tokens: TokenRegistry | undefined): Scope | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match === null) return undefined;
  // Hash both sides so the comparison is over equal lengths and independent of the header's length.
  const hash = sha256(match[1]);
  if (timingSafeEqual(hash, admin)) return "admin";
  return tokens?.scopeOf(hash.toString("hex"));
}

/**
 * What the dashboard's routes need of the server: its tokens, its origin, its sessions. The
 * session lifetime can be shortened with `SLUICE_DASHBOARD_SESSION_MS` (tests of expiry).
 */
function dashboardContext(options: ApiServerOptions, admin: Buffer, maxBodyBytes: number, url: () => string): DashboardContext {
  const envMs = Number(process.env.SLUICE_DASHBOARD_SESSION_MS);
  const book = new SessionBook(options.token, { ...(Number.isSafeInteger(envMs) && envMs > 0 ? { sessionMs: envMs } : {}), ...options.dashboard });
  const scopeOfHash = (hash: string): Scope | undefined => {
    const given = Buffer.from(hash, "hex");
    if (given.length === admin.length && timingSafeEqual(given, admin)) return "admin";
    return options.tokens?.scopeOf(hash);
  };
  return {
    book,
    maxBodyBytes,
    url,
    scopeOfHash,
    ownOrigin(req) {
      const host = req.headers.host;
      if (host === undefined) return undefined;
      let parsed: URL;
      try {
        parsed = new URL(`http://${host}`);
      } catch {
        return undefined;
      }
      if (parsed.port !== new URL(url()).port || !isLoopbackHost(parsed.hostname)) return undefined;
      return `http://${parsed.host}`;
    },
    bearer(req) {
      const scope = scopeOf(req.headers.authorization, admin, options.tokens);
      const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
      return scope === undefined || match === null ? undefined : { scope, hash: sha256(match[1]).toString("hex") };
    },
  };
}

/** A GET of /v1/events is the stream unless it asks for JSON (a page). */
function wantsStream(req: http.IncomingMessage): boolean {
  return !/application\/json/i.test(req.headers.accept ?? "");
}

class BodyTooLargeError extends Error {}

function readBody(req: http.IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > maxBytes) {
        done = true;
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks));
    });
    req.on("error", (error) => {
      if (done) return;
      done = true;
      reject(error);
    });
  });
}

function send(res: http.ServerResponse, status: number, body: Json, headers: http.OutgoingHttpHeaders = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

async function sendMetrics(res: http.ServerResponse, metrics: MetricsSource): Promise<void> {
  const text = await metrics.text();
  if (res.headersSent || res.destroyed) return;
  res.writeHead(200, { "content-type": metrics.contentType, "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}

function sendError(res: http.ServerResponse, mapped: MappedError, headers?: http.OutgoingHttpHeaders): void {
  const error: { [key: string]: Json } = { code: mapped.body.code, message: mapped.body.message };
  if (mapped.body.details !== undefined) error.details = mapped.body.details;
  send(res, mapped.status, { error }, headers);
}

function fail(status: number, code: string, message: string): MappedError {
  return { status, body: { code, message } };
}

/** Starts the API server; resolves once it listens. */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const host = options.host ?? "127.0.0.1";
  if (!isLoopbackHost(host)) {
    throw new InvalidArgumentError(`the API binds loopback addresses only (127.0.0.1, ::1), not ${JSON.stringify(host)}`);
  }
  if (!/^[0-9a-f]{64}$/i.test(options.token)) throw new InvalidArgumentError("the API token must be 32 bytes as hex");
  const bindHost = host === "localhost" ? "127.0.0.1" : host.replace(/^\[|\]$/g, "");
  const expected = sha256(options.token);
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const onInternalError =
    options.onInternalError ?? ((error: unknown) => console.error("sluice api: internal error:", error));
  const { api } = options;

  let serverUrl = "";
  const dashboard = dashboardContext(options, expected, maxBody, () => serverUrl);

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (await handleDashboard(req, res, dashboard)) return;
    const authorized = authorizeApi(req, dashboard);
    if (authorized !== undefined && !("scope" in authorized)) {
      refuse(res, authorized);
      return;
    }
    const scope = authorized?.scope;
    if (scope === undefined) {
      sendError(res, fail(401, "UNAUTHORIZED", "missing, wrong or revoked API token (Authorization: Bearer <token>; the admin token is in api.token)"), {
        "www-authenticate": "Bearer",
        connection: "close",
      });
      return;
    }
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/v1/openapi.json" && req.method === "GET") {
      send(res, 200, openApiDocument() as unknown as Json);
      return;
    }
    if (url.pathname === "/metrics" && req.method === "GET" && options.metrics !== undefined) {
      if (!allows(scope, "metrics")) sendError(res, mapError(new ScopeError(scope, "metrics", scopesOf("metrics"))));
      else await sendMetrics(res, options.metrics);
      return;
    }
    // GET streams the event log (with an SSE Accept, or always without a query of a page).
    if (url.pathname === "/v1/events" && req.method === "GET" && options.events !== undefined && wantsStream(req)) {
      let after: bigint;
      try {
        after = resumePoint(req, url);
      } catch (error) {
        sendError(res, mapError(error));
        return;
      }
      streamEvents(options.events, req, res, url, after);
      return;
    }
    const route = /^\/v1\/([a-z]+)$/.exec(url.pathname);
    const name = route?.[1];
    if (name === undefined || !isMethodName(name)) {
      sendError(res, fail(404, "NOT_FOUND", `no route ${url.pathname}: GET (reads) or POST (writes) /v1/<method>; GET /v1/openapi.json lists them`), {
        connection: "close",
      });
      return;
    }
    const verb = verbOf(name);
    if (req.method !== verb) {
      sendError(res, fail(405, "METHOD_NOT_ALLOWED", `${req.method ?? "?"} ${url.pathname}: use ${verb}`), { allow: verb, connection: "close" });
      return;
    }
    if (!allows(scope, name)) {
      sendError(res, mapError(new ScopeError(scope, name, scopesOf(name))));
      return;
    }
    if (verb === "GET") {
      await answer(res, name, () => bodyOfQuery(url.searchParams));
      return;
    }
    const type = req.headers["content-type"];
    if (type !== undefined && !/^application\/json\s*(;.*)?$/i.test(type)) {
      sendError(res, fail(415, "UNSUPPORTED_MEDIA_TYPE", `Content-Type ${type}: send application/json`), { connection: "close" });
      return;
    }
    const tooLarge = fail(413, "PAYLOAD_TOO_LARGE", `the request body is larger than ${maxBody} bytes`);
    const length = Number(req.headers["content-length"] ?? "0");
    if (length > maxBody) {
      sendError(res, tooLarge, { connection: "close" });
      return;
    }
    let raw: Buffer;
    try {
      raw = await readBody(req, maxBody);
    } catch (error) {
      if (error instanceof BodyTooLargeError) sendError(res, tooLarge, { connection: "close" });
      else res.destroy();
      return;
    }
    await answer(res, name, () => {
      if (raw.length === 0) return {};
      try {
        return JSON.parse(raw.toString("utf8")) as unknown;
      } catch {
        throw new WireFormatError("", "not valid JSON");
      }
    });
  };

  /** Decodes the request's arguments, calls the node, and answers with the result or the error. */
  const answer = async (res: http.ServerResponse, name: MethodName, body: () => unknown): Promise<void> => {
    let args: unknown[] | undefined;
    try {
      const method = METHODS[name] as unknown as Method<unknown[], unknown>;
      args = method.decodeArgs(body());
      const result = await method.call(api, args);
      send(res, 200, method.result.encode(result));
    } catch (error) {
      const mapped = await explainError(error, args, api);
      if (mapped.body.code === "INTERNAL") onInternalError(error);
      sendError(res, mapped);
    }
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      onInternalError(error);
      sendError(res, fail(500, "INTERNAL", "internal error: see the node's log"));
    });
  });
  // Clients keep connections alive between requests. Node's default closes an idle one after 5 s,
  // and a request sent at that very moment fails with "socket hang up": keep idle connections far
  // longer than any pause a client takes (the client's agent drops its idle sockets first).
  server.keepAliveTimeout = 10 * 60_000;
  server.headersTimeout = 10 * 60_000 + 1_000;
  server.requestTimeout = 0;
  // An early error reply (401, 404, 413, ...) leaves the body unread: discard what arrives until the
  // connection closes (those replies say `Connection: close`).
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    res.on("finish", () => {
      if (!req.complete) req.resume();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, bindHost, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = net.isIPv6(address.address) ? `[${address.address}]` : address.address;
  serverUrl = `http://${urlHost}:${address.port}`;
  let closing: Promise<void> | undefined;
  return {
    url: serverUrl,
    port: address.port,
    host: address.address,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

export interface LocalApiOptions extends Omit<ApiServerOptions, "token"> {
  /** The node's data directory: holds `api.token` (created if missing) and `api.json`. */
  datadir: string;
}

/**
 * Starts the API as the node does: ensures the data directory's token, listens, and writes
 * `api.json` so the CLI finds it; `close()` removes `api.json` again and stops the server.
 */
export async function startLocalApi(options: LocalApiOptions): Promise<ApiServer> {
  const token = await ensureApiToken(options.datadir);
  const server = await startApiServer({ ...options, token });
  try {
    await writeApiInfo(options.datadir, { url: server.url, pid: process.pid });
  } catch (error) {
    await server.close();
    throw error;
  }
  return {
    ...server,
    async close() {
      await removeApiInfo(options.datadir, server.url);
      await server.close();
    },
  };
}
