/**
 * `sluice events [--after N] [--limit N] [--type T,…] [--follow]`: the node's event log (payments,
 * channel statuses, deposits, withdrawals, peers), a page of it or, with `--follow`, every new
 * event as it happens (resuming where it stopped after the node restarts), one line each.
 */
import type { ApiClient, AssetInfo, EventView } from "../node/api";
import type { Json } from "../node/api/wire";
import type { Hex } from "../types";
import { formatAmount } from "./amount";
import { uintArg, type Command } from "./commands";
import { UsageError } from "./errors";

const MAX_LIMIT = 10_000n;

/** Each channel's asset, asked once: amounts in events are base units. */
function assetsOf(client: ApiClient): (channelId: Hex) => Promise<AssetInfo | undefined> {
  const known = new Map<Hex, Promise<AssetInfo | undefined>>();
  return (channelId) => {
    let asset = known.get(channelId);
    if (asset === undefined) {
      asset = client
        .channel(channelId)
        .then((channel) => client.asset(channel.asset))
        .catch(() => undefined);
      known.set(channelId, asset);
    }
    return asset;
  };
}

/** One event as a line: id, time, type, channel, and its fields (amounts in the channel's asset). */
export async function eventLine(event: EventView, assetOf: (channelId: Hex) => Promise<AssetInfo | undefined>): Promise<string> {
  const time = new Date(event.at).toISOString().replace(/\.\d{3}Z$/, "Z");
  const asset = event.channelId === undefined ? undefined : await assetOf(event.channelId as Hex);
  const amount = (value: Json): string =>
    asset !== undefined && typeof value === "string" && /^[0-9]+$/.test(value) ? formatAmount(BigInt(value), asset) : JSON.stringify(value);
  const parts = Object.entries(event.data).map(([key, value]) => {
    if (key === "amount" || key === "total") return `${key} ${amount(value)}`;
    if (Array.isArray(value)) return `${key} ${value.map((v) => (key === "deposits" || key === "withdrawn" ? amount(v) : JSON.stringify(v))).join(" / ")}`;
    return `${key} ${typeof value === "string" ? value : JSON.stringify(value)}`;
  });
  const channel = event.channelId === undefined ? "" : `  channel ${event.channelId.slice(0, 10)}…`;
  return `#${event.id}  ${time}  ${event.type}${channel}  ${parts.join("  ")}`.trimEnd();
}

export const EVENT_COMMANDS: readonly Command[] = [
  {
    name: "events",
    usage: "events [--after <id>] [--limit <n>] [--type <type,…>] [--follow]",
    summary: "the node's events: payments, channel statuses, deposits, withdrawals, peers",
    help: [
      "Lists the node's event log in order, from the first event (or after --after <id>), one line each.",
      "With --follow, keeps printing new events as they happen until interrupted; if the node restarts,",
      "it resumes after the last event printed: none is lost or printed twice.",
      "",
      "  --after <id>        start after this event id (each line starts with #id)",
      "  --limit <n>         at most n events (1 to 10000, default 1000; without --follow)",
      "  --type <type,…>     only these types, e.g. payment.received,channel.closed",
      "  --follow            stream new events as they happen (Ctrl-C stops)",
      "",
      "Types: payment.sent, payment.received, channel.opening|open|closing|disputed|closed|settled|abandoned,",
      "channel.deposit, channel.withdrawn, withdrawal.proposed|signed|executed|expired|refused|void,",
      "invoice.created|paid|cancelled|expired, lock.added|settled|cancelled|expired, peer.connected, peer.disconnected,",
      "chain.tx.sent|replaced|confirmed|failed.",
    ].join("\n"),
    options: { after: { type: "string" }, limit: { type: "string" }, type: { type: "string" }, follow: { type: "boolean" } },
    positionals: [0, 0],
    run: async (ctx, _positionals, values) => {
      const after = typeof values.after === "string" ? uintArg(values.after, "--after") : 0n;
      const types = typeof values.type === "string" ? values.type.split(",").filter((t) => t !== "") : undefined;
      if (values.follow === true && values.limit !== undefined) throw new UsageError("--limit and --follow don't go together: --follow prints every event until interrupted");
      const limit = typeof values.limit === "string" ? Number(uintArg(values.limit, "--limit", { min: 1n, max: MAX_LIMIT })) : undefined;
      const client = await ctx.client();
      const assetOf = assetsOf(client);
      if (values.follow === true) {
        for await (const event of client.events({ after, ...(types === undefined ? {} : { types }) })) {
          ctx.print(ctx.json ? `${JSON.stringify(event)}\n` : `${await eventLine(event, assetOf)}\n`);
        }
        return { json: null, text: "" };
      }
      const page = await client.listEvents({ after, ...(limit === undefined ? {} : { limit }), ...(types === undefined ? {} : { types }) });
      const lines = await Promise.all(page.map((event) => eventLine(event, assetOf)));
      return { json: page as unknown as Json, text: lines.length === 0 ? "no events" : lines.join("\n") };
    },
  },
];
