/** The scoped API tokens (table `api_tokens`, migration 9), kept as sha256 hashes. */
import type { Database, Statement } from "better-sqlite3";
import { SCOPES, type Scope } from "../api/access";
import { InvalidRecordError } from "./errors";

export interface TokenRecord {
  id: bigint;
  scope: Scope;
  name: string;
  /** Unix ms. */
  createdAt: number;
  revokedAt?: number;
}

interface TokenRow {
  id: number;
  hash: string;
  scope: Scope;
  name: string;
  created_at: number;
  revoked_at: number | null;
}

const HASH = /^[0-9a-f]{64}$/;

function record(row: TokenRow): TokenRecord {
  return {
    id: BigInt(row.id),
    scope: row.scope,
    name: row.name,
    createdAt: row.created_at,
    ...(row.revoked_at === null ? {} : { revokedAt: row.revoked_at }),
  };
}

export class TokenStore {
  private readonly stInsert: Statement<[string, string, string, number]>;
  private readonly stAll: Statement<[], TokenRow>;
  private readonly stById: Statement<[number], TokenRow>;
  private readonly stRevoke: Statement<[number, number]>;
  private readonly stLive: Statement<[], TokenRow>;

  constructor(
    db: Database,
    private readonly now: () => number,
  ) {
    this.stInsert = db.prepare("INSERT INTO api_tokens (hash, scope, name, created_at) VALUES (?, ?, ?, ?)");
    this.stAll = db.prepare("SELECT * FROM api_tokens ORDER BY id");
    this.stById = db.prepare("SELECT * FROM api_tokens WHERE id = ?");
    this.stRevoke = db.prepare("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL");
    this.stLive = db.prepare("SELECT * FROM api_tokens WHERE revoked_at IS NULL");
  }

  /** Keeps a new token by its hash (sha256, hex). */
  add(hash: string, scope: Scope, name: string): TokenRecord {
    if (!HASH.test(hash)) throw new InvalidRecordError("hash", hash, "expected a sha256 as 64 lower-case hex digits");
    if (!(SCOPES as readonly string[]).includes(scope)) throw new InvalidRecordError("scope", scope, `expected one of ${SCOPES.join(", ")}`);
    if (typeof name !== "string" || name.length > 200) throw new InvalidRecordError("name", name, "expected a string of at most 200 characters");
    const id = this.stInsert.run(hash, scope, name, this.now()).lastInsertRowid;
    return record(this.stById.get(Number(id))!);
  }

  list(): TokenRecord[] {
    return this.stAll.all().map(record);
  }

  byId(id: bigint): TokenRecord | null {
    if (id < 1n || id > BigInt(Number.MAX_SAFE_INTEGER)) return null;
    const row = this.stById.get(Number(id));
    return row === undefined ? null : record(row);
  }

  /** Marks the token revoked; false if there is no such live token. */
  revoke(id: bigint): boolean {
    if (id < 1n || id > BigInt(Number.MAX_SAFE_INTEGER)) return false;
    return this.stRevoke.run(this.now(), Number(id)).changes === 1;
  }

  /** The scope of every live token, by hash. */
  live(): Map<string, Scope> {
    return new Map(this.stLive.all().map((row) => [row.hash, row.scope]));
  }
}
