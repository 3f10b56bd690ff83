/**
 * Scoped tokens of the local API (`sluice token create --scope …`): made from 32 random bytes,
 * shown once, kept only as their sha256 (the store's `api_tokens`), revocable. The server asks
 * `scopeOf(hash)` on every request; the live tokens are cached and reloaded on every change.
 */
import { createHash, randomBytes } from "node:crypto";
import { SluiceError } from "../errors";
import { SCOPES, type Scope } from "./api/access";
import type { CreatedTokenView, TokenView } from "./api/types";
import type { TokenRecord, TokenStore } from "./store/tokens";

/** No live token with that id: nothing changed. */
export class UnknownTokenError extends SluiceError {
  static override readonly code: string = "UNKNOWN_TOKEN";
  override readonly name: string = "UnknownTokenError";

  constructor(readonly id: bigint) {
    super(`no live API token with id ${id} (\`sluice token list\` shows them)`);
  }
}

const PREFIX: { readonly [scope in Scope]: string } = { admin: "sluice_adm_", "read-only": "sluice_ro_", invoice: "sluice_inv_" };

export const tokenHash = (token: string): string => createHash("sha256").update(token, "utf8").digest("hex");

function view(record: TokenRecord): TokenView {
  return {
    id: record.id,
    scope: record.scope,
    name: record.name,
    createdAt: BigInt(Math.floor(record.createdAt / 1000)),
    ...(record.revokedAt === undefined ? {} : { revokedAt: BigInt(Math.floor(record.revokedAt / 1000)) }),
  };
}

export class ApiTokens {
  private live: Map<string, Scope>;

  constructor(private readonly store: TokenStore) {
    this.live = store.live();
  }

  /** A new token of `scope`: the token itself is in the answer only. */
  create(scope: Scope, name = ""): CreatedTokenView {
    if (!(SCOPES as readonly string[]).includes(scope)) throw new SluiceError(`unknown scope ${JSON.stringify(scope)}: ${SCOPES.join(", ")}`);
    const token = `${PREFIX[scope]}${randomBytes(32).toString("hex")}`;
    const record = this.store.add(tokenHash(token), scope, name);
    this.live = this.store.live();
    return { ...view(record), token };
  }

  list(): TokenView[] {
    return this.store.list().map(view);
  }

  revoke(id: bigint): TokenView {
    if (!this.store.revoke(id)) throw new UnknownTokenError(id);
    this.live = this.store.live();
    return view(this.store.byId(id)!);
  }

  /** The scope of a live token by its sha256 (hex), for the server. */
  scopeOf(hash: string): Scope | undefined {
    return this.live.get(hash);
  }
}
