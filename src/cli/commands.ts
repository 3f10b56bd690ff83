/**
 * The subcommands of `sluice`: arguments, help, and what each asks the node. Each returns its
 * result twice: as JSON (the API's wire encoding, for `--json`) and as text for people.
 */
import type { ParseArgsConfig } from "node:util";
import type { ApiClient } from "../node/api/client";
import type { AssetInfo, ChannelView, PaymentRef, PaymentsQuery } from "../node/api/types";
import { assetInfo, cashOutView, channelView, nodeInfo, paymentView, proofView, txView, type Json } from "../node/api/wire";
import { OPEN_STAGE_NAMES } from "../node/open";
import { MAX_PAYMENTS_LIMIT, MAX_REACH_TIMEOUT_MS } from "../schema/api";
import { checkDuration, checkSettingAddress, DEFAULT_RPC } from "../schema/config";
import { configReferenceText } from "../schema/configReference";
import { checkBytes32, checkUint, MAX_UINT64 } from "../schema/primitives";
import type { Address, Hex } from "../types";
import { ETH } from "../types";
import { formatAmount, parseAmount, parseRef } from "./amount";
import { UsageError } from "./errors";
import { DASHBOARD_COMMAND } from "./dashboardCommand";
import { DEV_COMMANDS } from "./devCommands";
import { EVENT_COMMANDS } from "./eventCommands";
import { TOKEN_COMMANDS } from "./tokenCommands";
import { BACKUP_COMMANDS } from "./backupCommands";
import { INVOICE_COMMANDS } from "./invoiceCommands";
import { KEY_COMMANDS } from "./keyCommands";
import { WEBHOOK_COMMANDS } from "./webhookCommands";
import { ROUTING_COMMANDS } from "./routingCommands";
import {
  fields,
  formatCashOut,
  formatChannel,
  formatChannels,
  formatDate,
  formatInfo,
  formatPayment,
  formatPayments,
  morePayments,
  formatProof,
  formatTx,
} from "./format";

export type Values = Record<string, string | boolean | undefined>;

export interface Output {
  json: Json;
  text: string;
}

export interface Context {
  /** The data directory as given (or the default), for messages. */
  datadir: string;
  json: boolean;
  /** The API client of the node running in the data directory. */
  client(): Promise<ApiClient>;
  /** Shows `text` on stderr while the command waits for the chain; call the result when done. */
  progress(text: string): () => void;
  /** `sluice node start ...`, with `--datadir X` when the data directory is not the default. */
  hint(command: string): string;
  /** Runs `sluice node start` (see main.ts). */
  startNode(values: Values): Promise<Output>;
  /** The environment of the command (SLUICE_KEYSTORE_PASSWORD, ...). */
  env: Record<string, string | undefined>;
  /** A path given on the command line, made absolute against the working directory. */
  resolvePath(file: string): string;
  /** All of stdin, as text. */
  readStdin(): Promise<string>;
  /** Writes to stdout at once (a command that streams, such as `events --follow`). */
  print(text: string): void;
}

export interface Command {
  name: string;
  usage: string;
  summary: string;
  /** More help: arguments, flags, examples. */
  help: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  /** Fewest and most positionals (the amount may come as "100 USDC" or as two words). */
  positionals: [number, number];
  waits?: boolean;
  run(ctx: Context, positionals: string[], values: Values): Promise<Output>;
}

// ---------------------------------------------------------------- argument checks

export function channelArg(text: string | undefined): Hex {
  const result = checkBytes32(text);
  if (!result.ok) throw new UsageError(`${JSON.stringify(text ?? "")} is not a channel id: give 0x and 64 hex digits (\`sluice channels\` lists them)`);
  return result.value;
}

export function addressArg(text: string | undefined, what: string): Address {
  const result = checkSettingAddress(text);
  if (!result.ok) throw new UsageError(`${JSON.stringify(text ?? "")} is not an address for ${what}: give 0x and 40 hex digits (checksummed or all one case)`);
  return result.value;
}

/** A whole number from `min` to `max`; one message, naming the option and its range, for every wrong value. */
export function uintArg(text: string, what: string, range: { min?: bigint; max?: bigint } = {}): bigint {
  const { min = 0n, max = MAX_UINT64 } = range;
  const result = checkUint(text, 64, false);
  if (!result.ok || result.value < min || result.value > max) {
    throw new UsageError(`${what} must be a whole number from ${min} to ${max}, not ${JSON.stringify(text)}`);
  }
  return result.value;
}

/** A point in time as the CLI takes it: unix seconds, or an ISO date (2026-12-05, 2026-12-05T14:00Z). */
function timeArg(text: string, flag: string): bigint {
  if (/^[0-9]{1,12}$/.test(text)) return BigInt(text);
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms) || ms < 0) throw new UsageError(`${flag} ${JSON.stringify(text)}: give a date (2026-12-05 or 2026-12-05T14:00Z) or unix seconds`);
  return BigInt(Math.floor(ms / 1000));
}

/** Seconds, or a number with s, m, h or d: "3600", "90s", "30m", "24h", "1d" (as a node's config file says it). */
export function durationArg(text: string, flag = "--challenge-period"): bigint {
  const result = checkDuration(text);
  if (!result.ok) throw new UsageError(`${flag} ${JSON.stringify(text)}: ${result.problem}`);
  return result.value;
}

function wsUrlArg(text: string | undefined): string {
  let url: URL | undefined;
  try {
    url = new URL(text ?? "");
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "ws:" && url.protocol !== "wss:")) {
    throw new UsageError(`${JSON.stringify(text ?? "")} is not the peer's URL: give its ws:// or wss:// address (the peer URL of its \`sluice status\`)`);
  }
  return text!;
}

/** `--ref`: a 32-byte hex is the ref itself; other text is a memo the node hashes and keeps. */
export function refArg(text: string): PaymentRef {
  const bytes32 = checkBytes32(text);
  if (bytes32.ok) return bytes32.value;
  parseRef(text); // refuses hex of the wrong length and an empty ref, naming the problem
  return { memo: text };
}

function str(values: Values, key: string): string | undefined {
  const value = values[key];
  return typeof value === "string" ? value : undefined;
}

/** The amount: every positional from `index` on ("100 USDC" in one word or two). */
function amountText(positionals: string[], index: number): string {
  return positionals.slice(index).join(" ");
}

// ---------------------------------------------------------------- shared steps

async function channelAndAsset(client: ApiClient, channelId: Hex): Promise<{ channel: ChannelView; asset: AssetInfo }> {
  const channel = await client.channel(channelId);
  const asset = await client.asset(channel.asset);
  return { channel, asset };
}

async function waiting<T>(ctx: Context, text: string, work: () => Promise<T>): Promise<T> {
  const done = ctx.progress(text);
  try {
    return await work();
  } finally {
    done();
  }
}

/** `sluice pay <invoice> [--route 0xH1,0xH2]`: pays it directly or through hubs (see `NodeApi.payInvoice`). */
async function payInvoice(ctx: Context, text: string, ref: string | undefined, routeText: string | undefined): Promise<Output> {
  const invoice = text.trim();
  if (!invoice.toLowerCase().startsWith("sluice1") && !invoice.startsWith("{")) {
    throw new UsageError("pay takes <channel> <amount> --ref <order>, or an invoice (sluice1…) alone");
  }
  if (ref !== undefined) throw new UsageError("an invoice carries its own ref: pay it without --ref");
  const route = routeText?.split(",").map((hub) => addressArg(hub.trim(), "--route"));
  const client = await ctx.client();
  const payment = await client.payInvoice(invoice, route);
  const { channel, asset } = await channelAndAsset(client, payment.channelId);
  return {
    json: paymentView.encode(payment),
    text: `paid the invoice: ${formatAmount(payment.amount, asset)} in ${payment.channelId}\n${formatPayment(payment, channel.me, asset)}`,
  };
}

function channelOutput(channel: ChannelView, asset: AssetInfo, headline: string): Output {
  return { json: channelView.encode(channel), text: `${headline}\n${formatChannel(channel, asset)}` };
}

const CHANNEL_ARG = "<channel> is a channel id (0x and 64 hex digits) as `sluice channels` prints it.";
const AMOUNT_HELP = [
  "<amount> is a human amount: \"100 USDC\", \"0.5 ETH\", or \"100\" in the channel's asset; it is converted",
  "exactly into base units with the asset's decimals (more decimals than the asset has is an error).",
].join("\n");

// ---------------------------------------------------------------- commands

const CHANNEL_COMMANDS: readonly Command[] = [
  {
    name: "status",
    usage: "status",
    summary: "the node: address, chain, adjudicator, peer URL, channels",
    help: "Shows the running node's address, chain id, adjudicator, the ws:// URL peers connect to, the\nlatest block and the number of channels.",
    options: {},
    positionals: [0, 0],
    async run(ctx) {
      const client = await ctx.client();
      const info = await client.info();
      const json = nodeInfo.encode(info) as { [key: string]: Json };
      return { json: { ...json, api: client.url }, text: formatInfo(info, client.url, ctx.datadir) };
    },
  },
  {
    name: "node start",
    usage: "node start [--config file] [--listen host:port] [--api-port N] [--rpc URL[,URL...]] [--confirmations N] [--max-fee GWEI] [--adjudicator addr] [--keystore file] [--payee addr] [--log-level level] [--tower [--tower-listen host:port]] [--tower-url ws://… [--tower-address addr] [--tower-every N]] [--hub [--fee-base N] [--fee-ppm N]] [--lock-window D] [--max-lock-duration D] [--max-pending-locks N] [--max-locked-value N]",
    summary: "run the node (peer server, watcher, local API) until Ctrl-C",
    help: [
      "Runs the node in the data directory until interrupted (Ctrl-C or SIGTERM). Before it writes",
      "anything there it checks that a chain answers at the RPC URL, that the adjudicator's address holds",
      "the Sluice adjudicator, and that the key is the one the data directory was first started with.",
      "",
      "  --config file   a JSON configuration file with the keys below (a flag overrides its key)",
      "",
      "Settings (config key, its flag if there is one, what it sets; then its type and default):",
      configReferenceText(),
      "",
      `With no --rpc (or "rpc") the node uses ${DEFAULT_RPC}, where \`npx hardhat node\` listens: start a`,
      "chain there, or give yours with --rpc URL. The key: --keystore file, or SLUICE_DEV_KEY for development.",
    ].join("\n"),
    options: {
      config: { type: "string" },
      listen: { type: "string" },
      "api-port": { type: "string" },
      rpc: { type: "string", multiple: true },
      confirmations: { type: "string" },
      "max-fee": { type: "string" },
      "log-level": { type: "string" },
      adjudicator: { type: "string" },
      keystore: { type: "string" },
      payee: { type: "string" },
      tower: { type: "boolean" },
      "tower-listen": { type: "string" },
      "tower-url": { type: "string" },
      "tower-address": { type: "string" },
      "tower-every": { type: "string" },
      hub: { type: "boolean" },
      "fee-base": { type: "string" },
      "fee-ppm": { type: "string" },
      "lock-window": { type: "string" },
      "max-lock-duration": { type: "string" },
      "max-pending-locks": { type: "string" },
      "max-locked-value": { type: "string" },
    },
    positionals: [0, 0],
    run: (ctx, _positionals, values) => ctx.startNode(values),
  },
  {
    name: "open",
    usage: "open <peer-address> <peer-url> <amount> [--asset <address>] [--challenge-period <seconds>] [--payee <address>] [--reach-timeout <seconds>]",
    summary: "open a channel with a peer and deposit into it",
    help: [
      "Agrees on a channel with the peer's node at <peer-url> (ws://...), deposits <amount> on chain and",
      "waits until the deposit is confirmed, in three stages, each with a time limit: reaching the peer",
      "(15 s by default), proving the peer's address (the handshake), waiting for the deposit. A failed",
      "stage is named in the error (OPEN_PEER_UNREACHABLE, OPEN_PEER_REJECTED, OPEN_DEPOSIT_TIMEOUT); a",
      "channel left opening without a deposit can be given up with `sluice abandon`.",
      "",
      "  --asset <address>             the ERC-20 token of the channel (default: ETH)",
      "  --challenge-period <seconds>  how long a dispute stays open: seconds, or 30m, 24h, 1d (default: the node's)",
      "  --reach-timeout <seconds>     how long to keep dialling a peer that does not answer: seconds or 5m, at",
      "                                most 10m (default: the node's, 15 s)",
      "  --payee <address>             where your payouts from this channel go: any address, a contract wallet",
      "                                (a Safe) included (default: the node's payee, else its own address). The",
      "                                node's key still signs; the peer names its own payee when it accepts.",
      "",
      AMOUNT_HELP,
      "",
      "Example: sluice open 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 ws://10.0.0.2:9735 100 USDC --asset 0x...",
    ].join("\n"),
    options: { asset: { type: "string" }, "challenge-period": { type: "string" }, payee: { type: "string" }, "reach-timeout": { type: "string" } },
    positionals: [3, 4],
    waits: true,
    async run(ctx, positionals, values) {
      const peer = addressArg(positionals[0], "the peer");
      const peerUrl = wsUrlArg(positionals[1]);
      const assetAddress = str(values, "asset") === undefined ? ETH : addressArg(str(values, "asset"), "--asset");
      const challenge = str(values, "challenge-period");
      const challengePeriod = challenge === undefined ? undefined : durationArg(challenge);
      const payeeText = str(values, "payee");
      const payee = payeeText === undefined ? undefined : addressArg(payeeText, "--payee");
      if (payee !== undefined && BigInt(payee) === 0n) throw new UsageError("--payee is the zero address: the adjudicator pays no one there");
      const reach = str(values, "reach-timeout");
      const reachSeconds = reach === undefined ? undefined : durationArg(reach, "--reach-timeout");
      if (reachSeconds !== undefined && reachSeconds * 1000n > BigInt(MAX_REACH_TIMEOUT_MS)) {
        throw new UsageError(`--reach-timeout ${reach}: at most ${MAX_REACH_TIMEOUT_MS / 60_000} minutes`);
      }
      const client = await ctx.client();
      const asset = await client.asset(assetAddress);
      const deposit = parseAmount(amountText(positionals, 2), asset);
      const stages = `${OPEN_STAGE_NAMES.reach} at ${peerUrl}, ${OPEN_STAGE_NAMES.prove} (${peer}), ${OPEN_STAGE_NAMES.deposit} of ${formatAmount(deposit, asset)} to be confirmed`;
      const channel = await waiting(ctx, `opening a channel: ${stages}…`, () =>
        client.openChannel({
          peer,
          peerUrl,
          asset: assetAddress,
          deposit,
          ...(challengePeriod === undefined ? {} : { challengePeriod }),
          ...(payee === undefined ? {} : { payee }),
          ...(reachSeconds === undefined ? {} : { reachTimeoutMs: Number(reachSeconds) * 1000 }),
        }),
      );
      return channelOutput(channel, asset, `opened channel ${channel.channelId} with ${formatAmount(deposit, asset)}`);
    },
  },
  {
    name: "abandon",
    usage: "abandon <channel>",
    summary: "give up a channel whose open failed before any deposit",
    help: [
      "Marks a channel still opening as abandoned, once the chain shows no deposit in it: it is then",
      "listed as abandoned and takes no payments. A channel with deposits can't be abandoned: close it",
      "(`sluice close`) or, if the peer doesn't answer, challenge it (`sluice challenge`).",
      "",
      CHANNEL_ARG,
    ].join("\n"),
    options: {},
    positionals: [1, 1],
    async run(ctx, positionals) {
      const channelId = channelArg(positionals[0]);
      const client = await ctx.client();
      const channel = await client.abandonChannel(channelId);
      const asset = await client.asset(channel.asset);
      return channelOutput(channel, asset, `abandoned channel ${channelId}`);
    },
  },
  {
    name: "deposit",
    usage: "deposit <channel> <amount>",
    summary: "add to your deposit in a channel",
    help: ["Deposits <amount> more into the channel on chain and waits until it is confirmed.", "", CHANNEL_ARG, AMOUNT_HELP].join("\n"),
    options: {},
    positionals: [2, 3],
    waits: true,
    async run(ctx, positionals) {
      const channelId = channelArg(positionals[0]);
      const client = await ctx.client();
      const { asset } = await channelAndAsset(client, channelId);
      const amount = parseAmount(amountText(positionals, 1), asset);
      const channel = await waiting(ctx, `waiting for the deposit of ${formatAmount(amount, asset)} to be confirmed…`, () =>
        client.deposit(channelId, amount),
      );
      return channelOutput(channel, asset, `deposited ${formatAmount(amount, asset)} into ${channelId}`);
    },
  },
  {
    name: "pay",
    usage: "pay <channel> <amount> --ref <order> | pay <sluice1…invoice> [--route 0xH1[,0xH2,0xH3]]",
    summary: "pay the peer off-chain, or pay an invoice",
    help: [
      "Pays the peer <amount> in the channel; done once both sides signed the new state.",
      "",
      "With an invoice (sluice1…) as the only argument: pays it over this node's open channel with",
      "the invoice's payee, with a transfer locked by the invoice's hashlock; done once the payee",
      "unlocked it (the receipt carries the invoice's ref). An invoice this node paid, or is paying,",
      "is refused before anything is locked. Without a channel with the payee, it pays through a",
      "connected hub that reaches the payee (the cheapest), the hubs' fees added to the lock.",
      "",
      "  --route <hubs>  pay through these hubs in order (up to 3 addresses, comma-separated)",
      "",
      "  --ref <order>   the payment's reference (required): a 0x-prefixed 32-byte hex (64 hex digits)",
      "                  is used as is; any other text (an order number, at most 256 bytes) is a memo:",
      "                  its keccak256 (of the UTF-8 bytes) is the reference, and this node keeps the",
      "                  text beside the payment (the peer and the chain see only the hash).",
      "                  If the reply is lost, `sluice payments <channel> --ref <order>` tells whether",
      "                  the payment was made before you pay again.",
      "",
      CHANNEL_ARG,
      AMOUNT_HELP,
      "",
      "Example: sluice pay 0x3f...a1 100 USDC --ref order-123",
      "         sluice pay sluice1…",
    ].join("\n"),
    options: { ref: { type: "string" }, route: { type: "string" } },
    positionals: [1, 3],
    async run(ctx, positionals, values) {
      if (positionals.length === 1) return payInvoice(ctx, positionals[0], str(values, "ref"), str(values, "route"));
      if (str(values, "route") !== undefined) throw new UsageError("--route is for paying an invoice: pay <sluice1…> --route 0xH1[,0xH2]");
      const channelId = channelArg(positionals[0]);
      const refText = str(values, "ref");
      if (refText === undefined) throw new UsageError("pay needs --ref <order>: the order (or any reference) the payment is for");
      const ref = refArg(refText);
      const client = await ctx.client();
      const { channel, asset } = await channelAndAsset(client, channelId);
      const amount = parseAmount(amountText(positionals, 1), asset);
      const payment = await client.pay(channelId, amount, ref);
      return { json: paymentView.encode(payment), text: `paid ${formatAmount(amount, asset)} in ${channelId}\n${formatPayment(payment, channel.me, asset)}` };
    },
  },
  {
    name: "channels",
    usage: "channels",
    summary: "list the node's channels",
    help: "Lists every channel of the node with its status and both balances.",
    options: {},
    positionals: [0, 0],
    async run(ctx) {
      const client = await ctx.client();
      const channels = await client.channels();
      const assets = new Map<string, AssetInfo>();
      for (const c of channels) {
        const key = c.asset;
        if (!assets.has(key)) assets.set(key, await client.asset(c.asset));
      }
      const json = channels.map((c) => channelView.encode(c));
      if (channels.length === 0) {
        return { json, text: "no channels: open one with `sluice open <peer-address> <peer-url> <amount>`" };
      }
      return { json, text: formatChannels(channels, assets) };
    },
  },
  {
    name: "channel",
    usage: "channel <channel>",
    summary: "show one channel",
    help: ["Shows one channel: status, deposits, balances, payments, dispute deadline.", "", CHANNEL_ARG].join("\n"),
    options: {},
    positionals: [1, 1],
    async run(ctx, positionals) {
      const channelId = channelArg(positionals[0]);
      const client = await ctx.client();
      const { channel, asset } = await channelAndAsset(client, channelId);
      return { json: channelView.encode(channel), text: formatChannel(channel, asset) };
    },
  },
  {
    name: "payments",
    usage: "payments <channel> [--from N] [--limit N] [--ref <order>] [--direction sent|received] [--since T] [--until T]",
    summary: "list a channel's payments",
    help: [
      "Lists the payments of a channel, oldest first: when each was committed, its reference and,",
      "if this node was given it, the text (memo) the reference was hashed from.",
      "",
      "  --from N                     start at payment N (default 0): the next page starts after the last shown",
      "  --limit N                    at most N payments (1 to 10000; default: the node's)",
      "  --ref <order>                only the payments with this reference (as `sluice pay --ref` takes it)",
      "  --direction sent|received    only those you paid, or those you were paid",
      "  --since T, --until T         only those committed at or after T, or before T: a date",
      "                               (2026-12-05, 2026-12-05T14:00Z) or unix seconds",
      "",
      CHANNEL_ARG,
    ].join("\n"),
    options: {
      from: { type: "string" },
      limit: { type: "string" },
      ref: { type: "string" },
      direction: { type: "string" },
      since: { type: "string" },
      until: { type: "string" },
    },
    positionals: [1, 1],
    async run(ctx, positionals, values) {
      const channelId = channelArg(positionals[0]);
      const from = str(values, "from");
      const limit = str(values, "limit");
      const refText = str(values, "ref");
      const query: PaymentsQuery = {};
      if (from !== undefined) query.fromSeq = uintArg(from, "--from");
      if (refText !== undefined) query.ref = refArg(refText);
      if (limit !== undefined) query.limit = Number(uintArg(limit, "--limit", { min: 1n, max: BigInt(MAX_PAYMENTS_LIMIT) }));
      const direction = str(values, "direction");
      if (direction !== undefined) {
        if (direction !== "sent" && direction !== "received") throw new UsageError(`--direction ${JSON.stringify(direction)}: give sent or received`);
        query.direction = direction;
      }
      const since = str(values, "since");
      if (since !== undefined) query.since = timeArg(since, "--since");
      const until = str(values, "until");
      if (until !== undefined) query.until = timeArg(until, "--until");
      const client = await ctx.client();
      const { channel, asset } = await channelAndAsset(client, channelId);
      const payments = await client.payments(channelId, query);
      const json = payments.map((p) => paymentView.encode(p));
      const filtered = query.ref !== undefined || query.direction !== undefined || query.since !== undefined || query.until !== undefined;
      const where = `${from === undefined ? "" : ` from #${from}`}${refText === undefined ? "" : ` with ref ${refText}`}${filtered && refText === undefined ? " matching the filters" : ""}`;
      if (payments.length === 0) return { json, text: `no payments in ${channelId}${where}` };
      const more = filtered ? undefined : morePayments(payments.length, query.fromSeq ?? 0n, channel.payments);
      return { json, text: formatPayments(payments, channel.me, asset) + (more === undefined ? "" : `\n${more}`) };
    },
  },
  {
    name: "close",
    usage: "close <channel>",
    summary: "close a channel cooperatively (final state signed by both)",
    help: [
      "Agrees on a final state with the peer and submits it on chain: both sides are paid at once.",
      "If the peer doesn't answer, use `sluice challenge` instead.",
      "",
      CHANNEL_ARG,
    ].join("\n"),
    options: {},
    positionals: [1, 1],
    waits: true,
    async run(ctx, positionals) {
      const channelId = channelArg(positionals[0]);
      const client = await ctx.client();
      const tx = await waiting(ctx, "waiting for the peer's signature and the close transaction to be confirmed…", () => client.close(channelId));
      return { json: txView.encode(tx), text: `closed ${channelId}: ${formatTx(tx)}` };
    },
  },
  {
    name: "challenge",
    usage: "challenge <channel>",
    summary: "register your latest state on chain (start or answer a dispute)",
    help: [
      "Submits your latest state signed by both to the chain: starts a dispute (when the peer stopped",
      "answering) or answers one. After the challenge period, `sluice settle` pays both sides out.",
      "",
      CHANNEL_ARG,
    ].join("\n"),
    options: {},
    positionals: [1, 1],
    waits: true,
    async run(ctx, positionals) {
      const channelId = channelArg(positionals[0]);
      const client = await ctx.client();
      const tx = await waiting(ctx, "waiting for the challenge transaction to be confirmed…", () => client.challenge(channelId));
      let text = `registered the latest state of ${channelId}: ${formatTx(tx)}`;
      if (!ctx.json) {
        const channel = await client.channel(channelId);
        if (channel.deadline !== undefined) {
          text += `\nthe challenge period ends at ${formatDate(channel.deadline)}: then run \`sluice settle ${channelId}\``;
        }
      }
      return { json: txView.encode(tx), text };
    },
  },
  {
    name: "settle",
    usage: "settle <channel>",
    summary: "settle a disputed channel after its challenge period",
    help: ["Pays out a disputed channel by its registered state once the challenge period has ended.", "", CHANNEL_ARG].join("\n"),
    options: {},
    positionals: [1, 1],
    waits: true,
    async run(ctx, positionals) {
      const channelId = channelArg(positionals[0]);
      const client = await ctx.client();
      const tx = await waiting(ctx, "waiting for the settle transaction to be confirmed…", () => client.settle(channelId));
      return { json: txView.encode(tx), text: `settled ${channelId}: ${formatTx(tx)}` };
    },
  },
  {
    name: "cash-out",
    usage: "cash-out <channel> <amount>",
    summary: "take money out of an open channel to your payee, without closing it",
    help: [
      "Withdraws <amount> from the channel while it stays open: your node proposes a withdrawal, the peer's",
      "node checks that you can afford it (your balance less your pending payments and earlier withdrawals)",
      "and countersigns it, both nodes store it, and your node executes it on chain (partialWithdraw): the",
      "amount goes to your payee in the channel. From the signatures on, both sides count it as spent; if it",
      "is not executed before it expires (an hour of chain time by default), it is dropped and counts again.",
      "The peer's node must be online. Waits for the transaction.",
      "",
      CHANNEL_ARG,
      AMOUNT_HELP,
      "",
      "Example: sluice cash-out 0x3f...a1 5000 USDC",
    ].join("\n"),
    options: {},
    positionals: [2, 3],
    waits: true,
    async run(ctx, positionals) {
      const channelId = channelArg(positionals[0]);
      const client = await ctx.client();
      const { channel, asset } = await channelAndAsset(client, channelId);
      const amount = parseAmount(amountText(positionals, 1), asset);
      const result = await waiting(ctx, `waiting for the peer's signature and the withdrawal of ${formatAmount(amount, asset)} to be confirmed…`, () =>
        client.cashOut(channelId, amount),
      );
      return { json: cashOutView.encode(result), text: formatCashOut(result, channel.me, asset) };
    },
  },
  {
    name: "withdraw",
    usage: "withdraw [--asset <address>]",
    summary: "withdraw payouts the adjudicator credited to the node's address",
    help: [
      "Withdraws the credited payouts of the node's own address in one asset (payouts the chain could not",
      "push). The adjudicator credits a payee, and only the payee's key can withdraw: the node holds one key,",
      "so it collects the credits of channels whose payee is the node's address. Credits of another payee (a",
      "company wallet, a Safe) are withdrawn by that payee itself, with `withdraw(asset)` or",
      "`withdrawTo(asset, to)` on the adjudicator. To take money out of an open channel, see `sluice cash-out`.",
      "",
      "  --asset <address>   the ERC-20 token (default: ETH)",
    ].join("\n"),
    options: { asset: { type: "string" } },
    positionals: [0, 0],
    waits: true,
    async run(ctx, _positionals, values) {
      const assetAddress = str(values, "asset") === undefined ? ETH : addressArg(str(values, "asset"), "--asset");
      const client = await ctx.client();
      const asset = await client.asset(assetAddress);
      const tx = await waiting(ctx, `waiting for the withdrawal of ${asset.symbol} to be confirmed…`, () => client.withdraw(assetAddress));
      return { json: txView.encode(tx), text: `withdrew your credited ${asset.symbol}: ${formatTx(tx)}` };
    },
  },
  {
    name: "prove",
    usage: "prove <channel> <payment>",
    summary: "a payment's Merkle proof, checked on chain by verifyPayment",
    help: [
      "Prints the Merkle proof that payment number <payment> (its seq, as `sluice payments` lists it) is",
      "in the channel's latest state, and whether the adjudicator's verifyPayment accepts it (once the",
      "channel concluded with, or registered, that state).",
      "",
      CHANNEL_ARG,
    ].join("\n"),
    options: {},
    positionals: [2, 2],
    async run(ctx, positionals) {
      const channelId = channelArg(positionals[0]);
      const seq = uintArg(positionals[1].replace(/^#/, ""), "<payment>");
      const client = await ctx.client();
      const { channel, asset } = await channelAndAsset(client, channelId);
      const proof = await client.prove(channelId, seq);
      return { json: proofView.encode(proof), text: formatProof(proof, channel.me, asset) };
    },
  },
  {
    name: "asset",
    usage: "asset [<address>]",
    summary: "an asset's symbol and decimals (default: ETH)",
    help: "Shows the symbol and decimals the node uses for an asset (ETH or an ERC-20 token address).",
    options: {},
    positionals: [0, 1],
    async run(ctx, positionals) {
      const assetAddress = positionals[0] === undefined ? ETH : addressArg(positionals[0], "the asset");
      const client = await ctx.client();
      const asset = await client.asset(assetAddress);
      return {
        json: assetInfo.encode(asset),
        text: fields([
          ["asset", asset.asset],
          ["symbol", asset.symbol],
          ["decimals", String(asset.decimals)],
        ]),
      };
    },
  },
];

export const COMMANDS: readonly Command[] = [
  ...CHANNEL_COMMANDS,
  ...INVOICE_COMMANDS,
  ...EVENT_COMMANDS,
  ...TOKEN_COMMANDS,
  ...WEBHOOK_COMMANDS,
  ...ROUTING_COMMANDS,
  DASHBOARD_COMMAND,
  ...KEY_COMMANDS,
  ...BACKUP_COMMANDS,
  ...DEV_COMMANDS,
];
