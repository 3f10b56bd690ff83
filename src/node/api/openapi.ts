/**
 * The OpenAPI 3.1 document of the local API, made from the method table (wire.ts) and its zod
 * schemas (src/schema/api.ts): served at `GET /v1/openapi.json` and committed as
 * docs/openapi.json (a test fails when they differ; `npm run openapi` rewrites the file).
 */
import { z } from "zod";
import * as schema from "../../schema/api";
import { scopesOf, verbOf } from "./access";
import { METHODS, type MethodName } from "./wire";

type JsonSchema = { [key: string]: unknown };

/** One line per method: what it does (a method without one fails the document's test). */
export const SUMMARIES: { readonly [name in MethodName]: string } = {
  info: "The node: its address, chain, adjudicator, peer URL, latest block, number of channels",
  asset: "An asset's symbol and decimals (ETH or an ERC-20 token)",
  open: "Opens a channel with a peer and deposits into it; resolves once the deposit is confirmed",
  abandon: "Gives up a channel whose open failed before any deposit",
  deposit: "Deposits more into an open channel",
  pay: "Pays the peer; the ref (or memo) is the payment's idempotency key in the channel",
  channels: "Every channel of the node",
  channel: "One channel: status, deposits, balances, version, withdrawals",
  payments: "A channel's payments, in order, filtered and paged by cursor",
  events: "A page of the event log (with Accept: application/json; otherwise GET /v1/events is the Server-Sent Events stream)",
  close: "Closes a channel cooperatively: a final state signed by both, submitted on chain",
  challenge: "Registers the node's latest state on chain (starts or answers a dispute)",
  settle: "Settles a channel whose challenge period is over",
  cashout: "Withdraws part of this side's balance while the channel stays open",
  withdraw: "Withdraws this node's credited payouts of an asset",
  mint: "Mints a test token (development chains only)",
  prove: "A payment's Merkle proof against the latest state, checked by the adjudicator's verifyPayment",
  createinvoice: "Makes a signed invoice (sluice1… string and JSON) with a fresh secret",
  invoice: "One invoice of this node, by id or hashlock",
  invoices: "This node's invoices, filtered by status and paged by id",
  cancelinvoice: "Cancels an open invoice",
  decodeinvoice: "Decodes and checks someone's invoice (checksum, fields, signature)",
  payinvoice: "Pays someone's invoice with a hashlocked transfer, over a direct channel or through hubs (route: explicit, up to 3); answers with the receipt once unlocked",
  forwards: "The locks this node forwarded as a hub, newest first, paged by id",
  createtoken: "Makes a scoped API token (admin, read-only or invoice); the answer is the only place the token appears",
  tokens: "The scoped API tokens, live and revoked (never the tokens themselves)",
  revoketoken: "Revokes a scoped API token: its next request is refused",
  addwebhook: "Adds a webhook endpoint: the node POSTs each matching event to it, signed, in order, at least once",
  webhooks: "The webhook endpoints and their delivery state (never their secrets)",
  removewebhook: "Removes a webhook endpoint: nothing more is sent to it",
  estimate: "What an action (open, deposit, cashout, close, challenge, withdraw) would cost on chain now: gas units and the fee at the EIP-1559 price; nothing is sent",
  credits: "The adjudicator's credits of this node's payees, per asset (withdraw takes those of the node's own address)",
  backup: "Writes a consistent copy of the node's store to a new file on its machine while payments go on (SQLite's online backup)",
};

/** The JSON Schema of the JSON side of a schema (what travels), with the wire codecs described. */
export function jsonSchemaOf(type: z.ZodType): JsonSchema {
  const out = z.toJSONSchema(type, {
    io: "input",
    unrepresentable: "any",
    override: (ctx) => {
      // optionalJson(x): a codec from an undescribed unknown to x.optional(): the JSON side is x's (or null).
      const def = (ctx.zodSchema as unknown as { _zod: { def: { type: string; in?: z.ZodType; out?: z.ZodType } } })._zod.def;
      if (def.type !== "pipe" || def.in === undefined || def.out === undefined) return;
      if (Object.keys(ctx.jsonSchema).length > 0) return;
      const inner = (def.out as unknown as { _zod: { def: { type: string; innerType?: z.ZodType } } })._zod.def;
      const item = inner.type === "optional" && inner.innerType !== undefined ? inner.innerType : def.out;
      Object.assign(ctx.jsonSchema, withoutDialect(jsonSchemaOf(item)));
    },
  }) as JsonSchema;
  return out;
}

function withoutDialect(json: JsonSchema): JsonSchema {
  const { $schema: _dialect, ...rest } = json;
  return rest;
}

const errorResponse = { $ref: "#/components/responses/Error" };

function operation(name: MethodName): JsonSchema {
  const method = METHODS[name];
  const body = withoutDialect(jsonSchemaOf(method.body));
  const result = withoutDialect(jsonSchemaOf(method.result.schema as z.ZodType));
  const op: JsonSchema = {
    operationId: name,
    summary: SUMMARIES[name],
    "x-scopes": scopesOf(name),
    responses: { "200": { description: "the result", content: { "application/json": { schema: result } } }, default: errorResponse },
  };
  if (verbOf(name) === "GET") {
    const properties = (body.properties ?? {}) as { [key: string]: JsonSchema };
    const required = new Set((body.required ?? []) as string[]);
    op.parameters = Object.entries(properties).map(([key, value]) => ({
      name: key,
      in: "query",
      required: required.has(key),
      // Lists go comma-separated; numbers and strings as their text.
      schema: value,
      ...(value.type === "array" ? { style: "form", explode: false } : {}),
    }));
  } else {
    op.requestBody = { required: true, content: { "application/json": { schema: body } } };
  }
  return op;
}

let memo: JsonSchema | undefined;

/** The document (made once per process). */
export function openApiDocument(): JsonSchema {
  if (memo !== undefined) return memo;
  const paths: { [path: string]: JsonSchema } = {};
  for (const name of Object.keys(METHODS) as MethodName[]) {
    paths[`/v1/${name}`] = { [verbOf(name).toLowerCase()]: operation(name) };
  }
  const events = paths["/v1/events"].get as JsonSchema;
  (events.responses as { [code: string]: JsonSchema })["200"] = {
    description: "Accept: application/json: a page of events. Otherwise the Server-Sent Events stream (id, event, data: the event as JSON), from Last-Event-ID or ?after=",
    content: {
      "application/json": { schema: withoutDialect(jsonSchemaOf(z.array(schema.eventView))) },
      "text/event-stream": { schema: { type: "string" } },
    },
  };
  paths["/v1/openapi.json"] = {
    get: { operationId: "openapi", summary: "This document", "x-scopes": scopesOf("openapi"), responses: { "200": { description: "OpenAPI 3.1", content: { "application/json": { schema: { type: "object" } } } } } },
  };
  memo = {
    openapi: "3.1.0",
    info: {
      title: "Sluice node API",
      version: "1",
      description:
        "The local HTTP API of a Sluice node (loopback only). Reads are GET with query parameters, writes POST with a JSON body. " +
        "Amounts, ids and other integers beyond 2^53 travel as decimal strings. Every request carries Authorization: Bearer <token>; " +
        "a token's scope (admin, read-only, invoice) limits what it may call (x-scopes on each operation); a call outside it is 403 FORBIDDEN_SCOPE.",
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      responses: {
        Error: {
          description: "An error: the HTTP status of its family and a stable code (docs/api.md lists them)",
          content: { "application/json": { schema: withoutDialect(jsonSchemaOf(schema.errorReply)) } },
        },
      },
    },
  };
  return memo;
}
