/**
 * The adjudicator's events as typed records, read from receipts or fetched with eth_getLogs in
 * block ranges (public RPCs cap the range of one eth_getLogs call).
 */
import type { Log, LogDescription, Provider, TransactionReceipt } from "ethers";
import { Adjudicator__factory } from "../../typechain-types";
import type * as Abi from "../../typechain-types/contracts/Adjudicator";
import type { Address, Hex, State } from "../types";

const IFACE = Adjudicator__factory.createInterface();

/**
 * Every event the adjudicator emits. (Its ABI also has OpenZeppelin's ERC-5267
 * `EIP712DomainChanged`, which it never emits: the domain is fixed.)
 */
export const ADJUDICATOR_EVENT_NAMES = [
  "Deposited",
  "PartiallyWithdrawn",
  "Challenged",
  "Closed",
  "Settled",
  "SecretRevealed",
  "LockResolved",
  "Credited",
  "Withdrawn",
] as const;
export type AdjudicatorEventName = (typeof ADJUDICATOR_EVENT_NAMES)[number];

/** Events indexed by channel id (their first topic after the signature). */
export const CHANNEL_EVENT_NAMES = ["Deposited", "PartiallyWithdrawn", "Challenged", "Closed", "Settled", "LockResolved"] as const;
type ChannelEventName = (typeof CHANNEL_EVENT_NAMES)[number];

/** Channel events that push a payment right after they are emitted; a `Credited` may follow each. */
const PAYING_EVENTS: readonly ChannelEventName[] = ["PartiallyWithdrawn", "Closed", "Settled", "LockResolved"];

const TOPIC: Record<AdjudicatorEventName, string> = Object.fromEntries(
  ADJUDICATOR_EVENT_NAMES.map((name) => [name, IFACE.getEvent(name).topicHash]),
) as Record<AdjudicatorEventName, string>;
const PAYING_TOPICS = new Set(PAYING_EVENTS.map((n) => TOPIC[n]));

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
  /** What arrived (less than asked for a fee-on-transfer token). */
  amount: bigint;
  /** The participant's cumulative deposit after this one. */
  deposit: bigint;
}

export interface PartiallyWithdrawnEvent extends EventLocation {
  name: "PartiallyWithdrawn";
  channelId: Hex;
  participant: 0 | 1;
  /** Paid to the participant's payee (or credited to it, then a `Credited` follows). */
  amount: bigint;
  /** The participant's cumulative withdrawal now (the withdrawal's `total`). */
  total: bigint;
}

export interface ChallengedEvent extends EventLocation {
  name: "Challenged";
  channelId: Hex;
  /** The registered state, whole: what `settle` takes back. */
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
  /** Held back for participant i's locks, paid out later by `resolveLock`. */
  heldBack: [bigint, bigint];
}

export interface SecretRevealedEvent extends EventLocation {
  name: "SecretRevealed";
  /** sha256(secret). */
  hashlock: Hex;
  secret: Hex;
}

export interface LockResolvedEvent extends EventLocation {
  name: "LockResolved";
  channelId: Hex;
  hashlock: Hex;
  /** The lock's leaf (`lockLeaf`). */
  leaf: Hex;
  /** The participant whose payee was paid: the receiver if the secret came in time, else the sender. */
  paidTo: 0 | 1;
  amount: bigint;
}

export interface CreditedEvent extends EventLocation {
  name: "Credited";
  owner: Address;
  asset: Address;
  amount: bigint;
  /**
   * The channel whose payment was credited: that of the paying event (Closed, Settled,
   * PartiallyWithdrawn, LockResolved) just before it in the same transaction; null if none.
   */
  channelId: Hex | null;
}

export interface WithdrawnEvent extends EventLocation {
  name: "Withdrawn";
  owner: Address;
  asset: Address;
  to: Address;
  amount: bigint;
}

export type AdjudicatorEvent =
  | DepositedEvent
  | PartiallyWithdrawnEvent
  | ChallengedEvent
  | ClosedEvent
  | SettledEvent
  | SecretRevealedEvent
  | LockResolvedEvent
  | CreditedEvent
  | WithdrawnEvent;

export interface EventQuery {
  /** First block (default 0). */
  fromBlock?: number;
  /** Last block (default: the latest block when the query starts). */
  toBlock?: number;
  /**
   * Only this channel's events: those indexed by its id (Deposited, PartiallyWithdrawn,
   * Challenged, Closed, Settled, LockResolved) and the Credited events of its payments.
   * SecretRevealed and Withdrawn belong to no channel and are left out.
   */
  channelId?: Hex;
  /** Blocks per eth_getLogs call (default 2,000); halved down to 1 when the node refuses a range. */
  blockRange?: number;
  /** Only these kinds. */
  names?: readonly AdjudicatorEventName[];
}

const pair = (values: readonly bigint[]): [bigint, bigint] => [values[0], values[1]];
const index = (value: bigint): 0 | 1 => Number(value) as 0 | 1;

/** An event's arguments as ethers decodes them: addresses and bytes are 0x-prefixed strings. */
type Decoded<T> = { [K in keyof T]: T[K] extends string ? `0x${string}` : T[K] extends bigint | boolean | readonly bigint[] ? T[K] : Decoded<T[K]> };
const argsOf = <T>(parsed: LogDescription): Decoded<T> => parsed.args as unknown as Decoded<T>;

/** Decodes one log of the adjudicator; `null` for a log that is not one of its events. */
export function decodeEvent(log: Log): AdjudicatorEvent | null {
  const parsed = IFACE.parseLog({ topics: [...log.topics], data: log.data });
  if (parsed === null) return null;
  const at: EventLocation = { blockNumber: log.blockNumber, transactionHash: log.transactionHash as Hex, logIndex: log.index };
  switch (parsed.name) {
    case "Deposited": {
      const a = argsOf<Abi.DepositedEvent.OutputObject>(parsed);
      return { name: "Deposited", ...at, channelId: a.channelId, participant: index(a.participant), amount: a.amount, deposit: a.deposit };
    }
    case "PartiallyWithdrawn": {
      const a = argsOf<Abi.PartiallyWithdrawnEvent.OutputObject>(parsed);
      return { name: "PartiallyWithdrawn", ...at, channelId: a.channelId, participant: index(a.participant), amount: a.amount, total: a.total };
    }
    case "Challenged": {
      const a = argsOf<Abi.ChallengedEvent.OutputObject>(parsed);
      const s = a.state;
      return {
        name: "Challenged",
        ...at,
        channelId: a.channelId,
        state: {
          channelId: s.channelId,
          version: s.version,
          transferred: pair(s.transferred),
          locked: pair(s.locked),
          locksRoot: s.locksRoot,
          paymentsRoot: s.paymentsRoot,
          isFinal: s.isFinal,
        },
        deadline: a.deadline,
      };
    }
    case "Closed": {
      const a = argsOf<Abi.ClosedEvent.OutputObject>(parsed);
      return { name: "Closed", ...at, channelId: a.channelId, version: a.version, payouts: pair(a.payouts) };
    }
    case "Settled": {
      const a = argsOf<Abi.SettledEvent.OutputObject>(parsed);
      return { name: "Settled", ...at, channelId: a.channelId, version: a.version, payouts: pair(a.payouts), heldBack: pair(a.heldBack) };
    }
    case "SecretRevealed": {
      const a = argsOf<Abi.SecretRevealedEvent.OutputObject>(parsed);
      return { name: "SecretRevealed", ...at, hashlock: a.hashlock, secret: a.secret };
    }
    case "LockResolved": {
      const a = argsOf<Abi.LockResolvedEvent.OutputObject>(parsed);
      return {
        name: "LockResolved",
        ...at,
        channelId: a.channelId,
        hashlock: a.hashlock,
        leaf: a.leaf,
        paidTo: index(a.paidTo),
        amount: a.amount,
      };
    }
    case "Credited": {
      const a = argsOf<Abi.CreditedEvent.OutputObject>(parsed);
      return { name: "Credited", ...at, owner: a.owner, asset: a.asset, amount: a.amount, channelId: null };
    }
    case "Withdrawn": {
      const a = argsOf<Abi.WithdrawnEvent.OutputObject>(parsed);
      return { name: "Withdrawn", ...at, owner: a.owner, asset: a.asset, to: a.to, amount: a.amount };
    }
    default:
      return null;
  }
}

function isPaying(e: AdjudicatorEvent): e is PartiallyWithdrawnEvent | ClosedEvent | SettledEvent | LockResolvedEvent {
  return (PAYING_EVENTS as readonly string[]).includes(e.name);
}

/** Sorts by position and gives each Credited the channel of the paying event before it in its transaction. */
function attributeCredits(events: AdjudicatorEvent[]): AdjudicatorEvent[] {
  events.sort((x, y) => x.blockNumber - y.blockNumber || x.logIndex - y.logIndex);
  let last: { tx: Hex; channelId: Hex } | null = null;
  for (const e of events) {
    if (isPaying(e)) last = { tx: e.transactionHash, channelId: e.channelId };
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
    const channelTopics = CHANNEL_EVENT_NAMES.filter((n) => wanted.has(n) || (wanted.has("Credited") && PAYING_EVENTS.includes(n))).map(
      (n) => TOPIC[n],
    );
    logs = channelTopics.length === 0 ? [] : await getLogsInRanges(provider, { address, topics: [channelTopics, query.channelId] }, from, to, range);
    if (wanted.has("Credited")) {
      // Credits carry no channel id: read the blocks where this channel paid something, and
      // attribute each Credited there to the paying event before it in its transaction.
      const payingBlocks = new Set(logs.filter((l) => PAYING_TOPICS.has(l.topics[0])).map((l) => l.blockNumber));
      const payingOrCredited = [...PAYING_TOPICS, TOPIC.Credited];
      for (const block of payingBlocks) {
        const around = await provider.getLogs({ address, topics: [payingOrCredited], fromBlock: block, toBlock: block });
        // This channel's paying events are in `logs` already; the other channels' are needed for
        // the attribution only.
        logs.push(...around.filter((l) => l.topics[0] === TOPIC.Credited || l.topics[1]?.toLowerCase() !== query.channelId?.toLowerCase()));
      }
    }
  }

  const events = attributeCredits(logs.map(decodeEvent).filter((e): e is AdjudicatorEvent => e !== null));
  return events.filter((e) => {
    if (!wanted.has(e.name)) return false;
    if (query.channelId === undefined) return true;
    if (e.name === "Withdrawn" || e.name === "SecretRevealed") return false;
    return e.channelId !== null && e.channelId.toLowerCase() === query.channelId.toLowerCase();
  });
}
