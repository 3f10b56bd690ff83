/**
 * `sluice invoice create|show|list|cancel`: this node's invoices (it is the payee), and any
 * invoice a payer was given, checked by the node (`show sluice1…`). Amounts are human amounts in
 * the invoice's asset (ETH unless `--asset`).
 */
import type { ApiClient } from "../node/api/client";
import type { AssetInfo, CreateInvoiceRequest, DecodedInvoiceView, InvoicesQuery, InvoiceStatusName, InvoiceView } from "../node/api/types";
import { decodedInvoiceView, invoiceView } from "../node/api/wire";
import { INVOICE_STATUSES, MAX_INVOICES_LIMIT } from "../schema/invoice";
import { checkBytes32 } from "../schema/primitives";
import type { SignedInvoice } from "../invoice/types";
import { ETH } from "../types";
import { formatAmount, parseAmount } from "./amount";
import { addressArg, durationArg, refArg, uintArg, type Command, type Output, type Values } from "./commands";
import { UsageError } from "./errors";
import { fields, formatDate, table } from "./format";

function str(values: Values, key: string): string | undefined {
  const value = values[key];
  return typeof value === "string" ? value : undefined;
}

function idArg(text: string | undefined): bigint {
  if (text === undefined || !/^[0-9]+$/.test(text)) {
    throw new UsageError(`${JSON.stringify(text ?? "")} is not an invoice id: give the number \`sluice invoice list\` prints`);
  }
  return uintArg(text, "an invoice id");
}

function statusArg(text: string): InvoiceStatusName {
  const status = INVOICE_STATUSES.find((s) => s === text);
  if (status === undefined) throw new UsageError(`--status ${JSON.stringify(text)}: give one of ${INVOICE_STATUSES.join(", ")}`);
  return status;
}

/** The asset infos of `invoices`, each asked once. */
async function assetsOf(client: ApiClient, invoices: readonly SignedInvoice[]): Promise<Map<string, AssetInfo>> {
  const assets = new Map<string, AssetInfo>();
  for (const { asset } of invoices) if (!assets.has(asset)) assets.set(asset, await client.asset(asset));
  return assets;
}

function invoiceRows(invoice: SignedInvoice, asset: AssetInfo): [string, string][] {
  return [
    ["amount", formatAmount(invoice.amount, asset)],
    ["asset", invoice.asset],
    ["payee", invoice.payee],
    ["description", invoice.description === "" ? "(none)" : invoice.description],
    ["expires", formatDate(invoice.expiry)],
    ["hashlock", invoice.hashlock],
    ["ref", invoice.ref],
    ["chain", `${invoice.chainId} (adjudicator ${invoice.adjudicator})`],
  ];
}

/** One of this node's invoices, for people: its string last, whole, to copy. */
function formatInvoice(view: InvoiceView, asset: AssetInfo): string {
  return [
    fields([
      ["invoice", `#${view.id}`],
      ["status", view.status],
      ...invoiceRows(view.invoice, asset),
      view.memo === undefined ? undefined : ["memo", view.memo],
      ["created", formatDate(view.createdAt)],
      view.paidAt === undefined ? undefined : ["paid", `${formatDate(view.paidAt)}${view.paidAmount === undefined ? "" : ` (${formatAmount(view.paidAmount, asset)})`}`],
      view.cancelledAt === undefined ? undefined : ["cancelled", formatDate(view.cancelledAt)],
    ]),
    "",
    view.encoded,
  ].join("\n");
}

function formatDecoded(view: DecodedInvoiceView, asset: AssetInfo): string {
  const state = view.expired ? "expired: don't pay it" : "valid: signed by its payee";
  return fields([
    ["invoice", state],
    ...invoiceRows(view.invoice, asset),
    ["network", view.sameNetwork ? "this node's chain and adjudicator" : "another chain or adjudicator than this node's: it can't pay it"],
  ]);
}

async function oneInvoice(client: ApiClient, view: InvoiceView, headline?: string): Promise<Output> {
  const asset = await client.asset(view.invoice.asset);
  const text = formatInvoice(view, asset);
  return { json: invoiceView.encode(view), text: headline === undefined ? text : `${headline}\n${text}` };
}

export const INVOICE_COMMANDS: readonly Command[] = [
  {
    name: "invoice create",
    usage: "invoice create <amount> [--asset <token>] [--description <text>] [--expiry <duration>] [--ref <order>]",
    summary: "make an invoice this node is paid by: prints the sluice1… string to hand the payer",
    help: [
      "Makes an invoice signed by this node's key, with a fresh secret the node keeps: the payer pays",
      "it with a hashlocked payment, and the node reveals the secret once paid. Prints the invoice's",
      "string (sluice1…): give it to the payer, who checks it with `sluice invoice show <string>`.",
      "",
      "  --asset <token>        the token to be paid in (default: ETH)",
      "  --description <text>   what it is for (at most 256 bytes of UTF-8)",
      "  --expiry <duration>    how long it can be paid: seconds, or with s, m, h or d (default 1d, at most 365d;",
      "                         a payment needs more than the reveal window, 1h)",
      "  --ref <order>          the payment reference: 0x and 64 hex digits as is, other text hashed as",
      "                         `sluice pay --ref` does (default: random)",
      "",
      "<amount> is a human amount in the asset: \"25 USDC\", \"0.01 ETH\" or \"25\".",
      "",
      "Example: sluice invoice create 25 USDC --asset 0x5FbDB2315678afecb367f032d93F642f64180aa3 --description \"order 42\"",
    ].join("\n"),
    options: { asset: { type: "string" }, description: { type: "string" }, expiry: { type: "string" }, ref: { type: "string" } },
    positionals: [1, 2],
    async run(ctx, positionals, values) {
      const assetText = str(values, "asset");
      const assetAddress = assetText === undefined ? ETH : addressArg(assetText, "--asset");
      const expiry = str(values, "expiry");
      const ref = str(values, "ref");
      const request: CreateInvoiceRequest = { amount: 0n, asset: assetAddress };
      if (expiry !== undefined) request.expiresIn = durationArg(expiry, "--expiry");
      if (ref !== undefined) request.ref = refArg(ref);
      const description = str(values, "description");
      if (description !== undefined) request.description = description;
      const client = await ctx.client();
      const asset = await client.asset(assetAddress);
      request.amount = parseAmount(positionals.join(" "), asset);
      const view = await client.createInvoice(request);
      return oneInvoice(client, view, `invoice #${view.id} for ${formatAmount(view.invoice.amount, asset)}, payable until ${formatDate(view.invoice.expiry)}:`);
    },
  },
  {
    name: "invoice show",
    usage: "invoice show <id | hashlock | sluice1…>",
    summary: "one of this node's invoices, or check an invoice you were given",
    help: [
      "With an id (as `sluice invoice list` prints it) or a hashlock (0x and 64 hex digits): one of this",
      "node's invoices and its status (open, paid, expired, cancelled).",
      "With an invoice string (sluice1…) or its JSON: checks it (checksum, fields, the payee's signature)",
      "and shows what it asks for, whether it has expired and whether this node's chain can pay it.",
    ].join("\n"),
    options: {},
    positionals: [1, 1],
    async run(ctx, [arg]) {
      const client = await ctx.client();
      const trimmed = arg.trim();
      if (/^[0-9]+$/.test(trimmed)) return oneInvoice(client, await client.invoice(idArg(trimmed)));
      const hashlock = checkBytes32(trimmed);
      if (hashlock.ok) return oneInvoice(client, await client.invoice(hashlock.value));
      if (!/^sluice1/i.test(trimmed) && !trimmed.startsWith("{")) {
        throw new UsageError(`${JSON.stringify(arg.length > 40 ? `${arg.slice(0, 40)}…` : arg)} is not an invoice: give its id, its hashlock (0x and 64 hex digits) or its string (sluice1…)`);
      }
      const decoded = await client.decodeInvoice(trimmed);
      const asset = await client.asset(decoded.invoice.asset);
      return { json: decodedInvoiceView.encode(decoded), text: formatDecoded(decoded, asset) };
    },
  },
  {
    name: "invoice list",
    usage: "invoice list [--status open|paid|expired|cancelled] [--from <id>] [--limit N]",
    summary: "this node's invoices, oldest first",
    help: [
      "Lists this node's invoices, oldest first.",
      "",
      "  --status <status>   only open, paid, expired or cancelled ones",
      "  --from <id>         start at invoice <id> (default 1)",
      `  --limit N           at most N invoices (1 to ${MAX_INVOICES_LIMIT}; default 100)`,
    ].join("\n"),
    options: { status: { type: "string" }, from: { type: "string" }, limit: { type: "string" } },
    positionals: [0, 0],
    async run(ctx, _positionals, values) {
      const query: InvoicesQuery = {};
      const status = str(values, "status");
      const from = str(values, "from");
      const limit = str(values, "limit");
      if (status !== undefined) query.status = statusArg(status);
      if (from !== undefined) query.fromId = idArg(from);
      if (limit !== undefined) {
        const n = uintArg(limit, "--limit", { min: 1n, max: BigInt(MAX_INVOICES_LIMIT) });
        if (n === 0n) throw new UsageError("--limit must be at least 1");
        query.limit = Number(n);
      }
      const client = await ctx.client();
      const views = await client.invoices(query);
      const json = views.map((v) => invoiceView.encode(v));
      if (views.length === 0) return { json, text: `no ${status === undefined ? "" : `${status} `}invoices` };
      const assets = await assetsOf(client, views.map((v) => v.invoice));
      const rows = views.map((v) => [
        `#${v.id}`,
        v.status,
        formatAmount(v.invoice.amount, assets.get(v.invoice.asset)!),
        formatDate(v.invoice.expiry),
        v.invoice.description,
      ]);
      return { json, text: table(["id", "status", "amount", "expires", "description"], rows) };
    },
  },
  {
    name: "invoice cancel",
    usage: "invoice cancel <id>",
    summary: "cancel an open invoice: it can no longer be paid",
    help: "Cancels one of this node's invoices that is open or expired; a paid or cancelled one is refused.",
    options: {},
    positionals: [1, 1],
    async run(ctx, [id]) {
      const client = await ctx.client();
      const view = await client.cancelInvoice(idArg(id));
      return oneInvoice(client, view, `invoice #${view.id} cancelled`);
    },
  },
];
