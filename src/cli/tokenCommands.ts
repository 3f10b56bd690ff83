/**
 * `sluice token create --scope <admin|read-only|invoice> [--name …] | list | revoke <id>`: scoped
 * tokens of the node's local API, for programs that should do less than the admin token of
 * `api.token` allows (a shop's web server that only makes invoices, a dashboard that only reads).
 */
import type { TokenView } from "../node/api/types";
import type { Json } from "../node/api/wire";
import type { Command } from "./commands";
import { UsageError } from "./errors";
import { formatDate, table } from "./format";

const SCOPE_NAMES = ["admin", "read-only", "invoice"] as const;
type ScopeName = (typeof SCOPE_NAMES)[number];

function scopeArg(text: unknown): ScopeName {
  if (typeof text !== "string") throw new UsageError(`\`sluice token create\` needs --scope: ${SCOPE_NAMES.join(", ")}`);
  if (!(SCOPE_NAMES as readonly string[]).includes(text)) throw new UsageError(`--scope ${JSON.stringify(text)}: give ${SCOPE_NAMES.join(", ")}`);
  return text as ScopeName;
}

function idArg(text: string): bigint {
  if (!/^[1-9][0-9]{0,15}$/.test(text)) throw new UsageError(`${JSON.stringify(text)} is not a token id: a whole number from 1 (\`sluice token list\` shows them)`);
  return BigInt(text);
}

const tokenJson = (t: TokenView): Json => ({
  id: t.id.toString(),
  scope: t.scope,
  name: t.name,
  createdAt: t.createdAt.toString(),
  ...(t.revokedAt === undefined ? {} : { revokedAt: t.revokedAt.toString() }),
});

export const TOKEN_COMMANDS: readonly Command[] = [
  {
    name: "token create",
    usage: "token create --scope <admin|read-only|invoice> [--name <text>]",
    summary: "make a scoped API token (shown once)",
    help: [
      "Makes a token for the node's local API, limited to a scope:",
      "  admin       everything",
      "  read-only   every read (channels, payments, proofs, invoices, events); no payment, no change",
      "  invoice     create and read invoices, read events",
      "The token is printed once; the node keeps only its sha256. Revoke it with `sluice token revoke <id>`.",
      "",
      "Example: sluice token create --scope invoice --name \"web shop\"",
    ].join("\n"),
    options: { scope: { type: "string" }, name: { type: "string" } },
    positionals: [0, 0],
    run: async (ctx, _positionals, values) => {
      const scope = scopeArg(values.scope);
      const name = typeof values.name === "string" ? values.name : "";
      const made = await (await ctx.client()).createToken(scope, name);
      return {
        json: { ...(tokenJson(made) as object), token: made.token },
        text: `${made.token}\ntoken #${made.id} (${made.scope}${made.name === "" ? "" : `, "${made.name}"`}): shown once; the node keeps only its hash`,
      };
    },
  },
  {
    name: "token list",
    usage: "token list",
    summary: "the scoped API tokens, live and revoked",
    help: "Lists the scoped tokens (never the tokens themselves): id, scope, name, when made and revoked.",
    options: {},
    positionals: [0, 0],
    run: async (ctx) => {
      const tokens = await (await ctx.client()).tokens();
      const rows = tokens.map((t) => [`#${t.id}`, t.scope, t.name, formatDate(t.createdAt), t.revokedAt === undefined ? "live" : `revoked ${formatDate(t.revokedAt)}`]);
      return { json: tokens.map(tokenJson), text: tokens.length === 0 ? "no scoped tokens (the admin token is in api.token)" : table(["id", "scope", "name", "made", "status"], rows) };
    },
  },
  {
    name: "token revoke",
    usage: "token revoke <id>",
    summary: "revoke a scoped API token",
    help: "Revokes the token: its next request is refused with 401.",
    options: {},
    positionals: [1, 1],
    run: async (ctx, [id]) => {
      const revoked = await (await ctx.client()).revokeToken(idArg(id));
      return { json: tokenJson(revoked), text: `token #${revoked.id} (${revoked.scope}) revoked` };
    },
  },
];
