/**
 * Who may call what, and how: each API method is a read (`GET` with query parameters) or a write
 * (`POST` with a JSON body), and each token has a scope:
 *
 * | scope       | may call                                                              |
 * |-------------|-----------------------------------------------------------------------|
 * | `admin`     | everything (the data directory's `api.token` is an admin token)       |
 * | `read-only` | every read: info, channels, payments, proofs, invoices, events, ...   |
 * | `invoice`   | create and read invoices, read events                                 |
 *
 * A method not listed as a read is a write, and a write is admin-only unless listed: a new method
 * is closed by default.
 */
import { SluiceError } from "../../errors";

export const SCOPES = ["admin", "read-only", "invoice"] as const;
export type Scope = (typeof SCOPES)[number];

/** The methods that only read: `GET /v1/<name>?query`; and `metrics`, `GET /metrics` (Prometheus text, not JSON). */
const READS: ReadonlySet<string> = new Set(["info", "asset", "channels", "channel", "payments", "events", "prove", "invoice", "invoices", "decodeinvoice", "tokens", "webhooks", "metrics", "estimate", "credits", "forwards"]);

/** What an `invoice` token may call. */
const INVOICE_METHODS: ReadonlySet<string> = new Set(["createinvoice", "invoice", "invoices", "decodeinvoice", "events"]);

/** Reads that stay admin-only (they show other tokens, or where events go). */
const ADMIN_READS: ReadonlySet<string> = new Set(["tokens", "webhooks"]);

export function isRead(method: string): boolean {
  return READS.has(method);
}

export function verbOf(method: string): "GET" | "POST" {
  return isRead(method) ? "GET" : "POST";
}

/** Whether a token of `scope` may call `method` (`stream` for the event stream, `openapi` for the document). */
export function allows(scope: Scope, method: string): boolean {
  if (scope === "admin") return true;
  if (method === "stream" || method === "openapi") return true;
  if (scope === "read-only") return isRead(method) && !ADMIN_READS.has(method);
  return INVOICE_METHODS.has(method);
}

/** The scopes that may call `method`, for the error and the OpenAPI document. */
export function scopesOf(method: string): Scope[] {
  return SCOPES.filter((scope) => allows(scope, method));
}

/** The token's scope does not cover the method: 403, nothing done. */
export class ScopeError extends SluiceError {
  static override readonly code: string = "FORBIDDEN_SCOPE";
  override readonly name: string = "ScopeError";

  constructor(
    readonly scope: Scope,
    readonly method: string,
    readonly needed: Scope[],
  ) {
    super(`a token with scope ${scope} can't call ${method}: that needs ${needed.join(" or ")}`);
  }
}
