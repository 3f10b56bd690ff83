/**
 * The adjudicator's events as typed records, read from receipts or fetched with eth_getLogs in
 * block ranges (public RPCs cap the range of one eth_getLogs call).
 */
import type { Log, Provider, TransactionReceipt } from "ethers";
import { Adjudicator__factory } from "../../typechain-types";
import type { Address, Hex, State } from "../types";

const IFACE = Adjudicator__factory.createInterface();

export const ADJUDICATOR_EVENT_NAMES = ["Deposited", "Challenged", "Closed", "Settled", "Credited", "Withdrawn"] as const;
export type AdjudicatorEventName = (typeof ADJUDICATOR_EVENT_NAMES)[number];

const CHANNEL_EVENTS: readonly AdjudicatorEventName[] = ["Deposited", "Challenged", "Closed", "Settled"];

const TOPIC: Record<AdjudicatorEventName, string> = Object.fromEntries(
  ADJUDICATOR_EVENT_NAMES.map((name) => [name, IFACE.getEvent(name).topicHash]),
) as Record<AdjudicatorEventName, string>;

/** Where an event was emitted. */
export interface EventLocation {
  blockNumber: number;
  transactionHash: Hex;
  logIndex: number;
}

export interface DepositedEvent extends EventLocation {
  name: "Deposited";
  channelId: Hex;
  participant: 0 | 1;
  amount: bigint;
  /** The participant's deposit after this one. */
  deposit: bigint;
}

export interface ChallengedEvent extends EventLocation {
  name: "Challenged";
  channelId: Hex;
  /** The registered state, rebuilt from the event. */
  state: State;
  deadline: bigint;
}

export interface ClosedEvent extends EventLocation {
  name: "Closed";
  channelId: Hex;
  version: bigint;
  payouts: [bigint, bigint];
}

export interface SettledEvent extends EventLocation {
  name: "Settled";
  channelId: Hex;
  version: bigint;
  payouts: [bigint, bigint];
}

export interface CreditedEvent extends EventLocation {
  name: "Credited";
  owner: Address;
  asset: Address;
  amount: bigint;
  /** The channel whose payout was credited: the Closed/Settled just before it in the same transaction. */
  channelId: Hex | null;
}

export interface WithdrawnEvent extends EventLocation {
  name: "Withdrawn";
  owner: Address;
  asset: Address;
  to: Address;
  amount: bigint;
}

export type AdjudicatorEvent = DepositedEvent | ChallengedEvent | ClosedEvent | SettledEvent | CreditedEvent | WithdrawnEvent;

export interface EventQuery {
  /** First block (default 0). */
  fromBlock?: number;
  /** Last block (default: the latest block when the query starts). */
  toBlock?: number;
  /**
   * Only this channel's events: Deposited, Challenged, Closed, Settled, and the Credited events
   * of its payouts. Withdrawn events belong to no channel and are left out.
   */
  channelId?: Hex;
  /** Blocks per eth_getLogs call (default 2,000); halved down to 1 when the node refuses a range. */
  blockRange?: number;
  /** Only these kinds. */
  names?: readonly AdjudicatorEventName[];
}

/** Decodes one log of the adjudicator; `null` for a log that is not one of its events. */
export function decodeEvent(log: Log): AdjudicatorEvent | null {
  const parsed = IFACE.parseLog({ topics: [...log.topics], data: log.data });
  if (parsed === null) return null;
  const at: EventLocation = { blockNumber: log.blockNumber, transactionHash: log.transactionHash as Hex, logIndex: log.index };
  const a = parsed.args;
  switch (parsed.name) {
    case "Deposited":
      return { name: "Deposited", ...at, channelId: a.channelId, participant: Number(a.participant) as 0 | 1, amount: a.amount, deposit: a.deposit };
    case "Challenged":
      return {
        name: "Challenged",
        ...at,
        channelId: a.channelId,
        state: {
          channelId: a.channelId,
          version: a.version,
          transferred: [a.transferred[0], a.transferred[1]],
          paymentsRoot: a.paymentsRoot,
          isFinal: a.isFinal,
        },
        deadline: a.deadline,
      };
    case "Closed":
    case "Settled":
      return { name: parsed.name, ...at, channelId: a.channelId, version: a.version, payouts: [a.payouts[0], a.payouts[1]] };
    case "Credited":
      return { name: "Credited", ...at, owner: a.owner, asset: a.asset, amount: a.amount, channelId: null };
    case "Withdrawn":
      return { name: "Withdrawn", ...at, owner: a.owner, asset: a.asset, to: a.to, amount: a.amount };
    default:
      return null;
  }
}

/** Sorts by position and gives each Credited the channel of the Closed/Settled before it in its transaction. */
function attributeCredits(events: AdjudicatorEvent[]): AdjudicatorEvent[] {
  events.sort((x, y) => x.blockNumber - y.blockNumber || x.logIndex - y.logIndex);
  let last: { tx: Hex; channelId: Hex } | null = null;
  for (const e of events) {
    if (e.name === "Closed" || e.name === "Settled") last = { tx: e.transactionHash, channelId: e.channelId };
    else if (e.name === "Credited") e.channelId = last !== null && last.tx === e.transactionHash ? last.channelId : null;
  }
  return events;
}

/** The adjudicator's events in a mined receipt, in log order. */
export function parseReceiptEvents(receipt: TransactionReceipt, address: Address): AdjudicatorEvent[] {
  const events = receipt.logs
    .filter((log) => log.address.toLowerCase() === address.toLowerCase())
    .map(decodeEvent)
    .filter((e): e is AdjudicatorEvent => e !== null);
  return attributeCredits(events);
}

async function getLogsInRanges(
  provider: Provider,
  filter: { address: Address; topics: (string | string[] | null)[] },
  from: number,
  to: number,
  range: number,
): Promise<Log[]> {
  const logs: Log[] = [];
  let start = from;
  let size = Math.max(1, Math.floor(range));
  while (start <= to) {
    const end = Math.min(to, start + size - 1);
    try {
      logs.push(...(await provider.getLogs({ ...filter, fromBlock: start, toBlock: end })));
      start = end + 1;
    } catch (error) {
      // A node that limits ranges (or results) refuses the call: try half as many blocks.
      if (size === 1) throw error;
      size = Math.max(1, Math.floor(size / 2));
    }
  }
  return logs;
}

export async function fetchEvents(provider: Provider, address: Address, query: EventQuery = {}): Promise<AdjudicatorEvent[]> {
  const from = query.fromBlock ?? 0;
  const to = query.toBlock ?? (await provider.getBlockNumber());
  const range = query.blockRange ?? 2_000;
  const wanted = new Set<AdjudicatorEventName>(query.names ?? ADJUDICATOR_EVENT_NAMES);
  if (from > to) return [];

  let logs: Log[];
  if (query.channelId === undefined) {
    const topics = ADJUDICATOR_EVENT_NAMES.filter((n) => wanted.has(n)).map((n) => TOPIC[n]);
    logs = await getLogsInRanges(provider, { address, topics: [topics] }, from, to, range);
  } else {
    const channelTopics = CHANNEL_EVENTS.map((n) => TOPIC[n]);
    logs = await getLogsInRanges(provider, { address, topics: [channelTopics, query.channelId] }, from, to, range);
    if (wanted.has("Credited")) {
      // Credits carry no channel id: read the blocks where this channel paid out, and attribute
      // each Credited there to the Closed/Settled before it in its transaction.
      const payoutBlocks = new Set(
        logs.filter((l) => l.topics[0] === TOPIC.Closed || l.topics[0] === TOPIC.Settled).map((l) => l.blockNumber),
      );
      for (const block of payoutBlocks) {
        const around = await provider.getLogs({
          address,
          topics: [[TOPIC.Closed, TOPIC.Settled, TOPIC.Credited]],
          fromBlock: block,
          toBlock: block,
        });
        logs.push(...around.filter((l) => l.topics[0] !== TOPIC.Closed && l.topics[0] !== TOPIC.Settled));
        // The other channels' payouts are needed for the attribution only.
        logs.push(...around.filter((l) => (l.topics[0] === TOPIC.Closed || l.topics[0] === TOPIC.Settled) && l.topics[1]?.toLowerCase() !== query.channelId?.toLowerCase()));
      }
    }
  }

  const events = attributeCredits(logs.map(decodeEvent).filter((e): e is AdjudicatorEvent => e !== null));
  return events.filter((e) => {
    if (!wanted.has(e.name)) return false;
    if (query.channelId === undefined) return true;
    return e.name !== "Withdrawn" && e.channelId !== null && e.channelId.toLowerCase() === query.channelId.toLowerCase();
  });
}
