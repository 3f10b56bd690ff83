/**
 * The dashboard's sessions: a browser logs in once with an API token (pasted, or through a one-time
 * login link that `sluice dashboard` asks the node for) and then holds a session cookie instead of
 * the token.
 *
 * A session id is signed, not stored: `payload.mac`, the payload naming the sha256 of the token it
 * was made from and its expiry, the MAC an HMAC-SHA256 under a key derived from the node's admin
 * token. So a session outlives a restart of the node (the page's event stream reconnects), its
 * scope is always the token's scope now (a revoked token ends it), and changing `api.token` ends
 * every session. Its CSRF token is the HMAC of its id. Logging out forgets the id in memory (the
 * browser drops the cookie too). One-time login codes live in memory only.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** How long a session lasts after login (12 hours; `SLUICE_DASHBOARD_SESSION_MS` overrides it). */
export const DEFAULT_SESSION_MS = 12 * 3_600_000;
/** How long a login link is good for (2 minutes), once. */
export const DEFAULT_LINK_MS = 120_000;

export interface Session {
  /** sha256 (hex) of the API token the session was made from. */
  tokenHash: string;
  csrf: string;
  expiresAt: number;
}

export interface SessionBookOptions {
  sessionMs?: number;
  linkMs?: number;
  now?: () => number;
}

const randomId = () => randomBytes(32).toString("base64url");

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** Constant-time equality of two strings. */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

export class SessionBook {
  private readonly key: Buffer;
  /** Ids logged out before their expiry, with that expiry (forgotten once it passed). */
  private readonly loggedOut = new Map<string, number>();
  private readonly codes = new Map<string, { tokenHash: string; expiresAt: number }>();
  readonly sessionMs: number;
  readonly linkMs: number;
  private readonly now: () => number;

  /** `secret`: the node's admin token (the key is derived from it, never the token itself). */
  constructor(secret: string, options: SessionBookOptions = {}) {
    this.key = createHmac("sha256", "sluice dashboard sessions").update(secret).digest();
    this.sessionMs = options.sessionMs ?? DEFAULT_SESSION_MS;
    this.linkMs = options.linkMs ?? DEFAULT_LINK_MS;
    this.now = options.now ?? Date.now;
  }

  private mac(text: string): string {
    return createHmac("sha256", this.key).update(text).digest("base64url");
  }

  /** A new session for the token of `tokenHash`: its id (the cookie) and the session. */
  open(tokenHash: string): { id: string; session: Session } {
    const expiresAt = this.now() + this.sessionMs;
    const payload = Buffer.from(JSON.stringify({ h: tokenHash, e: expiresAt, n: randomId() })).toString("base64url");
    const id = `${payload}.${this.mac(payload)}`;
    return { id, session: { tokenHash, expiresAt, csrf: this.mac(`csrf|${id}`) } };
  }

  /** The live session of `id`, or undefined (forged, logged out or expired). */
  find(id: string | undefined): Session | undefined {
    if (id === undefined || this.loggedOut.has(id)) return undefined;
    const [payload, mac, extra] = id.split(".");
    if (payload === undefined || mac === undefined || extra !== undefined || !sameSecret(mac, this.mac(payload))) return undefined;
    let parsed: { h?: unknown; e?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { h?: unknown; e?: unknown };
    } catch {
      return undefined;
    }
    if (typeof parsed.h !== "string" || typeof parsed.e !== "number" || parsed.e <= this.now()) return undefined;
    return { tokenHash: parsed.h, expiresAt: parsed.e, csrf: this.mac(`csrf|${id}`) };
  }

  close(id: string | undefined): void {
    const session = this.find(id);
    if (id === undefined || session === undefined) return;
    const now = this.now();
    for (const [old, expiresAt] of this.loggedOut) if (expiresAt <= now) this.loggedOut.delete(old);
    this.loggedOut.set(id, session.expiresAt);
  }

  /** A one-time login code standing for the token of `tokenHash`, good for `linkMs`. */
  issueCode(tokenHash: string): { code: string; expiresAt: number } {
    const now = this.now();
    for (const [code, entry] of this.codes) if (entry.expiresAt <= now) this.codes.delete(code);
    const code = randomId();
    const expiresAt = now + this.linkMs;
    this.codes.set(code, { tokenHash, expiresAt });
    return { code, expiresAt };
  }

  /** Spends a login code: the token hash it stands for, or undefined (unknown, used or expired). */
  redeem(code: string): string | undefined {
    const entry = this.codes.get(code);
    if (entry === undefined) return undefined;
    this.codes.delete(code);
    return entry.expiresAt > this.now() ? entry.tokenHash : undefined;
  }
}
