/** `sluice forwards`: the locks this node forwarded as a hub (`GET /v1/forwards`), newest first. */
import type { ForwardsQuery, ForwardStatusName } from "../node/api/types";
import { codec } from "../node/api/wire";
import { forwardView, MAX_FORWARDS_LIMIT } from "../schema/api";
import { uintArg, type Command } from "./commands";
import { UsageError } from "./errors";
import { formatDate, table } from "./format";

const STATUSES: readonly ForwardStatusName[] = ["pending", "settled", "cancelled"];
const forwardJson = codec(forwardView);

export const ROUTING_COMMANDS: readonly Command[] = [
  {
    name: "forwards",
    usage: "forwards [--status pending|settled|cancelled] [--before <id>] [--limit N]",
    summary: "the payments this node forwarded as a hub, newest first",
    help: [
      "Lists the locks this node (started with --hub) forwarded between its channels, newest first:",
      "the amounts in and out (base units), the fee kept, the next hop, and why a cancelled one failed.",
      "",
      "  --status <status>   only pending, settled or cancelled ones",
      "  --before <id>       only forwards older than <id> (page on with the last id printed)",
      `  --limit N           at most N forwards (1 to ${MAX_FORWARDS_LIMIT}; default 100)`,
    ].join("\n"),
    options: { status: { type: "string" }, before: { type: "string" }, limit: { type: "string" } },
    positionals: [0, 0],
    async run(ctx, _positionals, values) {
      const query: ForwardsQuery = {};
      const text = (key: string) => (typeof values[key] === "string" ? values[key] : undefined);
      const status = text("status");
      if (status !== undefined) {
        if (!(STATUSES as readonly string[]).includes(status)) throw new UsageError(`--status is one of ${STATUSES.join(", ")}, not ${JSON.stringify(status)}`);
        query.status = status as ForwardStatusName;
      }
      const before = text("before");
      if (before !== undefined) query.before = uintArg(before, "--before");
      const limit = text("limit");
      if (limit !== undefined) query.limit = Number(uintArg(limit, "--limit", { min: 1n, max: BigInt(MAX_FORWARDS_LIMIT) }));
      const client = await ctx.client();
      const views = await client.forwards(query);
      const json = views.map((v) => forwardJson.encode(v));
      if (views.length === 0) return { json, text: `no ${status === undefined ? "" : `${status} `}forwards` };
      const rows = views.map((v) => [`#${v.id}`, v.status, v.amountIn.toString(), v.amountOut.toString(), v.fee.toString(), v.nextHop, formatDate(v.createdAt / 1000n), v.error ?? ""]);
      return { json, text: table(["id", "status", "in", "out", "fee", "next hop", "at", "error"], rows) };
    },
  },
];
