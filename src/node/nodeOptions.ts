/** What a node is started with (`new SluiceNode(options)`), their defaults and their checks. */
import type { Provider, Signer } from "ethers";
import type { LockRuleSettings } from "../channel";
import { InvalidArgumentError } from "../errors";
import type { Address, Hex } from "../types";
import type { OpenTimeouts } from "./open";
import type { HubFees } from "./routing";
import type { PeerMessages } from "./protocol";
import type { TransportOptions } from "./transport";
import type { WebhookDeliveryOptions } from "./webhooks";

export interface NodeOptions {
  /** The node's private key: it signs states, the peer handshake and its transactions. */
  privateKey: Hex;
  /** The chain: any ethers provider (embedded Hardhat network, a node on localhost, any RPC). */
  provider: Provider;
  /** Signs this node's transactions (default: a Wallet of `privateKey` on `provider`). */
  chainSigner?: Signer;
  adjudicator: Address;
  /** SQLite file of the node's store. */
  storePath: string;
  /** Where peers connect: host (default 127.0.0.1) and port (default: a free one). */
  listen?: { host?: string; port?: number };
  /** How often the watcher polls the chain (ms, default 1,000). */
  pollMs?: number;
  /**
   * Payment proposals a channel keeps awaiting the peer's answer (default 2); payments beyond them
   * wait for the next answer and go together in one state.
   */
  proposalsInFlight?: number;
  /** Challenge period of the channels this node opens (seconds, default 3,600). */
  challengePeriod?: bigint;
  /**
   * Where this node's payouts go in the channels it opens (unless `open` names another) and
   * accepts: any address, a contract wallet included (default: the node's own address). Only
   * credits of the node's own address can be withdrawn by the node.
   */
  payee?: Address;
  /** How long a withdrawal this node asks for stays valid (seconds of chain time, default 3,600). */
  withdrawalWindow?: bigint;
  /** The longest validity of a peer's withdrawal this node countersigns (seconds, default 86,400). */
  maxWithdrawalWindow?: bigint;
  /**
   * Test hooks (fault injection): `afterWithdrawalSigned` runs once a cash-out's withdrawal is
   * signed by both and stored, before it is executed (the crash tests kill the process there).
   */
  testHooks?: { afterWithdrawalSigned?(channelId: Hex): void };
  /** Time limits of the stages of `open` (reaching the peer, its deposit). */
  openTimeouts?: OpenTimeouts;
  /** Transport settings passed through (timeouts, frame limits). */
  transport?: Partial<Pick<TransportOptions<PeerMessages>, "handshakeTimeoutMs" | "maxFrameBytes" | "requestTimeoutMs">>;
  /** Told of what the watcher failed at (default: ignored; it retries). */
  onError?: (error: unknown, what: string) => void;
  /**
   * How deep a deposit, withdrawal or conclusion must be to count (1: in the latest block).
   * Default: 1 on development chains, 12 elsewhere (src/chain/confirmations.ts says why).
   */
  confirmations?: number;
  /** Told of what the chain did that an operator should know of (a reorg, a replaced transaction). */
  log?: (line: string) => void;
  /** Webhook delivery: retry delays and the request timeout (docs/api.md "Webhooks"). */
  webhooks?: Omit<WebhookDeliveryOptions, "onError">;
  /** The most the node pays per gas for a transaction, in gwei (default: src/chain/feeCap.ts). */
  maxFeeGwei?: number;
  /** How long a transaction may wait unmined before it is replaced with a higher fee (ms, default 60,000). */
  replaceAfterMs?: number;
  /** Run a watchtower for other nodes too (`--tower`), its clients connecting at `listen`. */
  tower?: { listen?: { host?: string; port?: number } };
  /** Hand this node's countersigned states to the tower at `url` (proving `address`, if given), every `every`-th (`--tower-url`, `--tower-every`). */
  towerClient?: { url: string; address?: Address; every?: number };
  /** Routing on (`--hub`): the node forwards locks between its channels for these fees. */
  hub?: { fees: HubFees };
  /**
   * The lock rules this node countersigns by (defaults: src/channel/lockDefaults.ts): the reveal
   * window and the longest lock (`--lock-window`, `--max-lock-duration`; a hub publishes both with
   * its fees, payers plan expiries with them), and the caps on a channel's pending locks, both
   * directions (`--max-pending-locks`, `--max-locked-value`): a lock beyond them is refused.
   */
  lockRules?: LockRuleSettings;
}

export const DEFAULT_CHALLENGE_PERIOD = 3_600n;
export const DEFAULT_WITHDRAWAL_WINDOW = 3_600n;
export const DEFAULT_MAX_WITHDRAWAL_WINDOW = 86_400n;

/** Refuses options the node can't run with (before anything is opened). */
export function checkNodeOptions(options: NodeOptions): void {
  const inFlight = options.proposalsInFlight;
  if (inFlight !== undefined && (!Number.isSafeInteger(inFlight) || inFlight < 1)) {
    throw new InvalidArgumentError(`proposalsInFlight must be a positive integer, not ${String(inFlight)}`);
  }
  if (options.payee !== undefined) checkPayee(options.payee, "the node's payee");
  const depth = options.confirmations;
  if (depth !== undefined && (!Number.isSafeInteger(depth) || depth < 1 || depth > 1_000)) {
    throw new InvalidArgumentError(`confirmations must be a whole number from 1 to 1000, not ${String(depth)}`);
  }
}

/** Refuses a payee the adjudicator would refuse (`ChannelPayeesInvalid`): malformed or zero. */
export function checkPayee(payee: unknown, what: string): void {
  if (typeof payee !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(payee)) throw new InvalidArgumentError(`${what} is not an address: ${String(payee)}`);
  if (BigInt(payee) === 0n) throw new InvalidArgumentError(`${what} is the zero address: the adjudicator pays no one there`);
}
