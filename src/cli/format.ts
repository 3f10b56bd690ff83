/** Human output of the CLI: channels, payments, transactions and proofs as aligned text. */
import type { AssetInfo, CashOutView, ChannelView, NodeInfo, PaymentView, ProofView, TxView } from "../node/api/types";
import { formatAmount } from "./amount";
import { formatTime } from "../humanText";

/** `rows` of [label, value] as aligned lines. */
export function fields(rows: readonly (readonly [string, string] | undefined)[]): string {
  const present = rows.filter((r): r is readonly [string, string] => r !== undefined);
  const width = Math.max(0, ...present.map(([label]) => label.length));
  return present.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n");
}

/** `rows` as a table under `header`, columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

export function formatDate(unixSeconds: bigint): string {
  return formatTime(unixSeconds);
}

export function formatDuration(seconds: bigint): string {
  if (seconds > 0n && seconds % 86400n === 0n) return `${seconds / 86400n} d`;
  if (seconds > 0n && seconds % 3600n === 0n) return `${seconds / 3600n} h`;
  if (seconds > 0n && seconds % 60n === 0n) return `${seconds / 60n} min`;
  return `${seconds} s`;
}

export function formatInfo(info: NodeInfo, apiUrl: string, datadir: string): string {
  return fields([
    ["node", info.address],
    ["chain id", info.chainId.toString()],
    ["adjudicator", info.adjudicator],
    ["peer URL", info.peerUrl],
    ["block", info.blockNumber.toString()],
    info.confirmations === undefined ? undefined : ["confirmations", `${info.confirmations} block${info.confirmations === 1 ? "" : "s"} before a deposit or a close counts`],
    info.chain === undefined ? undefined : ["chain", chainHealthText(info.chain)],
    ...(info.chain?.endpoints ?? []).map((e, i): [string, string] => [
      i === 0 ? "RPC endpoints" : "",
      `${e.active ? "* " : "  "}${e.url}${i === 0 ? " (preferred)" : ""}${e.failures === 0 ? "" : `: ${e.failures} failed call(s), the last${e.lastFailureAt === undefined ? "" : ` at ${formatDate(e.lastFailureAt / 1000n)}`}: ${e.lastError ?? "?"}`}`,
    ]),
    ["channels", String(info.channels)],
    info.tower === undefined ? undefined : ["tower", towerLinkText(info.tower)],
    info.towerService === undefined ? undefined : ["tower service", towerServiceText(info.towerService)],
    info.hub === undefined ? undefined : ["hub", hubText(info.hub)],
    ["API", `${apiUrl} (${datadir})`],
  ]);
}

/** The tower this node hands its states to: connected or not, and the newest version it acknowledged per channel. */
function towerLinkText(tower: NonNullable<NodeInfo["tower"]>): string {
  const head = `${tower.url}, ${tower.connected ? `connected (${tower.address ?? "?"})` : "NOT CONNECTED"}`;
  const acked = tower.acknowledged.map((a) => `\n    ${a.channelId} acknowledged up to version ${a.version}`);
  return head + (acked.length === 0 ? ", nothing acknowledged yet" : acked.join(""));
}

/** This node's own tower: where clients register, and each client. */
function towerServiceText(service: NonNullable<NodeInfo["towerService"]>): string {
  const clients = service.clients.map(
    (c) => `\n    ${c.address} ${c.connected ? "connected" : "offline"}, ${c.channels} channel${c.channels === 1 ? "" : "s"} watched, last seen ${new Date(Number(c.lastSeen)).toISOString()}`,
  );
  return `clients register at ${service.url}` + (clients.length === 0 ? ", no clients yet" : clients.join(""));
}

/** Routing on: the fees, the forwards, the fees earned (base units per asset). */
function hubText(hub: NonNullable<NodeInfo["hub"]>): string {
  const earned = hub.feesEarned.length === 0 ? "none" : hub.feesEarned.map((f) => `${f.amount} base units of ${f.asset}`).join(", ");
  return `routing on, fee ${hub.fees.base} base units + ${hub.fees.ppm} ppm; ${hub.forwarded} payments forwarded, ${hub.pending} pending; fees earned: ${earned}`;
}

function chainHealthText(chain: NonNullable<NodeInfo["chain"]>): string {
  if (chain.reachable) return "answering";
  const since = chain.downSince === undefined ? "" : ` since ${formatDate(BigInt(Math.floor(Number(chain.downSince) / 1000)))}`;
  const error = chain.lastError === undefined ? "" : `: ${chain.lastError}`;
  return `NOT ANSWERING${since} (${chain.failures} failed rounds${error}); off-chain payments go on; last block read ${chain.lastBlock ?? "none"}`;
}

export function formatChannel(channel: ChannelView, asset: AssetInfo): string {
  const me = channel.me;
  const peer = (1 - me) as 0 | 1;
  const amount = (v: bigint) => formatAmount(v, asset);
  return fields([
    ["channel", channel.channelId],
    ["status", channel.status],
    ["peer", `${channel.participants[peer]} (you are participant ${me}, ${channel.participants[me]})`],
    ["asset", `${asset.symbol} (${asset.asset}, ${asset.decimals} decimals)`],
    samePayees(channel) ? undefined : ["payees", `you ${channel.payees[me]}, peer ${channel.payees[peer]}`],
    ["deposits", `you ${amount(channel.deposits[me])}, peer ${amount(channel.deposits[peer])}`],
    channel.pendingDeposits === undefined
      ? undefined
      : ["pending deposits", `you ${amount(channel.pendingDeposits[me])}, peer ${amount(channel.pendingDeposits[peer])} (seen on chain, not yet confirmed: they count once confirmed)`],
    channel.resyncRequired ? ["restored", "from a backup: signs nothing until it has resynced with the peer (when the peer connects)"] : undefined,
    channel.withdrawn[0] === 0n && channel.withdrawn[1] === 0n
      ? undefined
      : ["cashed out", `you ${amount(channel.withdrawn[me])}, peer ${amount(channel.withdrawn[peer])}`],
    ...channel.withdrawals.map(
      (w) =>
        [
          "pending cash-out",
          `${w.participant === me ? "you" : "peer"} ${amount(w.amount)} (${w.status === "proposed" ? "waiting for the peer's signature" : "signed by both"}, valid until ${formatDate(w.expiry)})`,
        ] as const,
    ),
    ["balances", `you ${amount(channel.balances[me])}, peer ${amount(channel.balances[peer])}`],
    ["paid", `you ${amount(channel.transferred[me])}, peer ${amount(channel.transferred[peer])}`],
    channel.locked[0] === 0n && channel.locked[1] === 0n ? undefined : ["locked", `you ${amount(channel.locked[me])}, peer ${amount(channel.locked[peer])} (pending hashlocked payments)`],
    ["payments", `${channel.payments} (state version ${channel.version})`],
    ["challenge period", formatDuration(channel.challengePeriod)],
    channel.deadline === undefined ? undefined : ["deadline", formatDate(channel.deadline)],
  ]);
}

/** True iff each side is paid at its own signing address (the plain case). */
function samePayees(channel: ChannelView): boolean {
  return channel.payees.every((p, i) => p === channel.participants[i]);
}

export function formatChannels(channels: readonly ChannelView[], assets: ReadonlyMap<string, AssetInfo>): string {
  // The pending locks' column only while some channel has one.
  const anyLocked = channels.some((c) => c.locked[0] > 0n || c.locked[1] > 0n);
  const rows = channels.map((c) => {
    const asset = assets.get(c.asset);
    const amount = (v: bigint) => (asset === undefined ? v.toString() : formatAmount(v, asset));
    const peer = (1 - c.me) as 0 | 1;
    const row = [c.channelId, c.status, c.participants[peer], amount(c.balances[c.me]), amount(c.balances[peer]), c.payments.toString()];
    return anyLocked ? [...row, `${amount(c.locked[c.me])} / ${amount(c.locked[peer])}`] : row;
  });
  return table(["CHANNEL", "STATUS", "PEER", "YOUR BALANCE", "PEER BALANCE", "PAYMENTS", ...(anyLocked ? ["LOCKED (YOU / PEER)"] : [])], rows);
}

export function formatPayments(payments: readonly PaymentView[], me: 0 | 1, asset: AssetInfo): string {
  const rows = payments.map((p) => [
    p.seq.toString(),
    p.committedAt === undefined ? "-" : formatDate(p.committedAt),
    p.payer === me ? "you" : "peer",
    formatAmount(p.amount, asset),
    p.ref,
    p.version.toString(),
    p.memo === undefined ? "" : JSON.stringify(p.memo),
  ]);
  return table(["SEQ", "TIME", "PAYER", "AMOUNT", "REF", "VERSION", "MEMO"], rows);
}

export function formatPayment(payment: PaymentView, me: 0 | 1, asset: AssetInfo): string {
  const who = payment.payer === me ? "you paid" : "the peer paid";
  const at = payment.committedAt === undefined ? "" : ` at ${formatDate(payment.committedAt)}`;
  const memo = payment.memo === undefined ? "" : `, memo ${JSON.stringify(payment.memo)}`;
  return `payment #${payment.seq}: ${who} ${formatAmount(payment.amount, asset)}${at} (ref ${payment.ref}${memo}, state version ${payment.version})`;
}

/** Under a page of payments that is not the last: how many there are, and where the next page starts. */
export function morePayments(shown: number, from: bigint, total: bigint): string | undefined {
  const next = from + BigInt(shown);
  if (next >= total) return undefined;
  return `showing ${from === 0n ? shown : `#${from} to #${next - 1n}`} of ${total}; --from ${next} for more`;
}

export function formatCashOut(result: CashOutView, me: 0 | 1, asset: AssetInfo): string {
  const amount = formatAmount(result.amount, asset);
  const who = result.participant === me ? "your payee" : "the peer's payee";
  if (result.status === "executed" && result.tx !== undefined) {
    const more = result.paid !== undefined && result.paid > result.amount ? ` (with an earlier signed withdrawal: ${formatAmount(result.paid, asset)} in all)` : "";
    return `cashed out ${amount} from ${result.channelId} to ${who} ${result.payee}${more}: ${formatTx(result.tx)}`;
  }
  return [
    `the withdrawal of ${amount} from ${result.channelId} is signed by both but not executed yet: ${result.reason ?? "unknown reason"}`,
    `it counts as spent; the node tries again until ${formatDate(result.expiry)}, then it is dropped`,
  ].join("\n");
}

export function formatTx(tx: TxView): string {
  return `transaction ${tx.hash} in block ${tx.blockNumber} (gas used ${tx.gasUsed})`;
}

export function formatProof(proof: ProofView, me: 0 | 1, asset: AssetInfo): string {
  const [first, ...rest] = proof.proof;
  return fields([
    ["payment", formatPayment(proof.payment, me, asset).replace(/^payment /, "")],
    ["channel", proof.payment.channelId],
    ["leaf", proof.leaf],
    ["root", `${proof.root} (state version ${proof.stateVersion})`],
    ["proof", first ?? "(none: the payment is the only leaf)"],
    ...rest.map((p) => ["", p] as const),
    [
      "on chain",
      proof.verifiedOnChain
        ? "verified: the adjudicator's verifyPayment accepts this payment"
        : "not verifiable yet: the chain has no concluded or registered state with this root (close, or challenge and settle, first)",
    ],
  ]);
}
