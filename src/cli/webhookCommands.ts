/**
 * `sluice webhook add|list|remove`: the endpoints the node POSTs its events to (docs/api.md
 * "Webhooks"), with each one's delivery state.
 */
import type { WebhookView } from "../node/api/types";
import { webhookView } from "../node/api/wire";
import { uintArg, type Command } from "./commands";
import { UsageError } from "./errors";
import { fields } from "./format";

function webhookIdArg(text: string): bigint {
  if (!/^[0-9]+$/.test(text)) throw new UsageError(`${JSON.stringify(text)} is not a webhook id: give the number \`sluice webhook list\` prints`);
  return uintArg(text, "a webhook id");
}

/** A time in unix ms, to the second. */
function formatMs(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function formatWebhook(view: WebhookView): string {
  const lastError = view.lastError === undefined ? undefined : `${view.lastError}${view.lastErrorAt === undefined ? "" : ` (${formatMs(view.lastErrorAt)})`}`;
  return fields([
    ["webhook", `#${view.id}  ${view.url}`],
    ["events", view.events.length === 0 ? "all" : view.events.join(", ")],
    ["cursor", view.cursor === 0n ? "no event yet" : `event #${view.cursor}`],
    ["delivered", String(view.delivered)],
    ["failures", view.attempts > 0 ? `${view.failures} (${view.attempts} in a row at the next event)` : String(view.failures)],
    lastError === undefined ? undefined : ["last error", lastError],
    view.nextAttemptAt === undefined ? undefined : ["next attempt", formatMs(view.nextAttemptAt)],
    ["added", formatMs(view.createdAt)],
  ]);
}

export const WEBHOOK_COMMANDS: readonly Command[] = [
  {
    name: "webhook add",
    usage: "webhook add <url> [--events <type,…>] [--secret <secret>]",
    summary: "POST the node's events to a URL, signed (prints the signing secret once)",
    help: [
      "Adds an endpoint the node POSTs each new event to, in batches ({\"events\": [...]}, each event",
      "as `sluice events --json` prints it), in order, at least once: a failure (no 2xx within 10 s) is",
      "retried with growing delays, up to every 10 minutes, across restarts. Receivers dedupe by the event id.",
      "",
      "Each request carries Sluice-Signature: t=<unix seconds>,v1=<HMAC-SHA256 of \"<t>.<body>\">, keyed",
      "with the endpoint's secret: check it with the library's verifyWebhook(secret, header, body, 300),",
      "which returns the batch's events.",
      "",
      "  --events <type,…>   only these types, e.g. payment.received,invoice.paid (default: all;",
      "                      the types are those of `sluice events --help`)",
      "  --secret <secret>   the signing secret, 16 to 256 characters (default: a random one, printed once)",
      "",
      "<url> is http:// or https://; loopback and private addresses are allowed.",
      "",
      "Example: sluice webhook add http://127.0.0.1:8080/sluice --events payment.received,invoice.paid",
    ].join("\n"),
    options: { events: { type: "string" }, secret: { type: "string" } },
    positionals: [1, 1],
    async run(ctx, [url], values) {
      const events = typeof values.events === "string" ? values.events.split(",").map((t) => t.trim()).filter((t) => t !== "") : undefined;
      const client = await ctx.client();
      const view = await client.addWebhook({ url, ...(events === undefined ? {} : { events }), ...(typeof values.secret === "string" ? { secret: values.secret } : {}) });
      const text = [
        `webhook #${view.id} added: the node POSTs ${view.events.length === 0 ? "every event" : view.events.join(", ")} to ${view.url}`,
        "",
        `signing secret: ${view.secret ?? "(not shown)"}`,
        "Keep it: it is shown this once (`sluice webhook list` never shows it).",
      ].join("\n");
      return { json: webhookView.encode(view), text };
    },
  },
  {
    name: "webhook list",
    usage: "webhook list",
    summary: "the webhook endpoints: deliveries, failures, the last error, the next attempt",
    help: "Lists each endpoint with its delivery state: the last event delivered (its cursor), how many were delivered, the failed attempts, the last error and when the next attempt is due.",
    options: {},
    positionals: [0, 0],
    async run(ctx) {
      const client = await ctx.client();
      const views = await client.webhooks();
      return { json: views.map((v) => webhookView.encode(v)), text: views.length === 0 ? "no webhooks" : views.map(formatWebhook).join("\n\n") };
    },
  },
  {
    name: "webhook remove",
    usage: "webhook remove <id>",
    summary: "stop POSTing events to an endpoint (its undelivered events are dropped)",
    help: "Removes an endpoint by its id (as `sluice webhook list` prints it): events not delivered yet are not sent, and its request in flight is cancelled.",
    options: {},
    positionals: [1, 1],
    async run(ctx, [id]) {
      const client = await ctx.client();
      const view = await client.removeWebhook(webhookIdArg(id));
      return { json: webhookView.encode(view), text: `webhook #${view.id} removed (${view.url}): ${view.delivered} events delivered` };
    },
  },
];
