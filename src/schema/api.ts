/**
 * The local HTTP API's bodies, both ways (node/api/wire.ts runs them): bigints as decimal strings,
 * addresses and byte strings as 0x-prefixed hex (lower-cased on decode), small counts as JSON
 * integers; objects are strict (an unknown key is refused).
 */
import { z } from "zod";
import type {
  AssetInfo,
  BackupView,
  CashOutView,
  ChannelStatusName,
  ChannelView,
  CreatedTokenView,
  ForwardsQuery,
  ForwardView,
  NodeInfo,
  OpenChannelRequest,
  PaymentView,
  ProofView,
  TokenView,
  TxView,
  WithdrawalView,
} from "../node/api/types";
import type { EventView } from "../node/api/eventStream";
import type { AddWebhookRequest, WebhookView } from "../node/api/types";
import { MAX_MEMO_BYTES } from "../node/paymentRef";
import type { Address, Hex } from "../types";
import { addressJson, boolean, bytes32Json, int, list, optionalJson, pair, participant, text, uint256Json, uint64Json, wsUrl } from "./primitives";

/** A schema whose decoded type is `T` (and whose JSON form is anything). */
type Schema<T> = z.ZodType<T, unknown>;

const count = int(0, Number.MAX_SAFE_INTEGER);
const oneOf = <T extends string>(values: readonly [T, ...T[]]) => z.enum(values);

export const CHANNEL_STATUSES: readonly ChannelStatusName[] = ["opening", "open", "closing", "disputed", "closed", "settled", "abandoned"];
/** The longest time `open` may be told to keep dialling a peer (10 minutes). */
export const MAX_REACH_TIMEOUT_MS = 600_000;
/** The largest page of payments one request returns. */
export const MAX_PAYMENTS_LIMIT = 10_000;
export const MAX_EVENTS_LIMIT = 10_000;

export const nodeInfo: Schema<NodeInfo> = z.strictObject({
  address: addressJson,
  chainId: uint256Json,
  adjudicator: addressJson,
  peerUrl: text(2048),
  blockNumber: uint64Json,
  channels: count,
  confirmations: optionalJson(int(1, 1_000)),
  chain: optionalJson(
    z.strictObject({
      reachable: boolean,
      failures: count,
      downSince: optionalJson(uint64Json),
      lastError: optionalJson(text(4096)),
      lastBlock: optionalJson(uint64Json),
      endpoints: optionalJson(
        list(
          z.strictObject({
            url: text(2048),
            active: boolean,
            failures: count,
            lastError: optionalJson(text(4096)),
            lastFailureAt: optionalJson(uint64Json),
          }),
          16,
        ),
      ),
    }),
  ),
  tower: optionalJson(
    z.strictObject({
      url: text(2048),
      connected: boolean,
      address: optionalJson(addressJson),
      acknowledged: list(z.strictObject({ channelId: bytes32Json, version: uint64Json }), 1_000_000),
    }),
  ),
  towerService: optionalJson(
    z.strictObject({
      url: text(2048),
      clients: list(z.strictObject({ address: addressJson, connected: boolean, channels: count, lastSeen: uint64Json }), 1_000_000),
    }),
  ),
  hub: optionalJson(
    z.strictObject({
      fees: z.strictObject({ base: uint256Json, ppm: int(0, 1_000_000) }),
      forwarded: uint64Json,
      pending: uint64Json,
      feesEarned: list(z.strictObject({ asset: addressJson, amount: uint256Json }), 1024),
    }),
  ),
});

export const assetInfo: Schema<AssetInfo> = z.strictObject({ asset: addressJson, symbol: text(64), decimals: int(0, 255) });

export const openChannelRequest: Schema<OpenChannelRequest> = z.strictObject({
  peer: addressJson,
  peerUrl: wsUrl,
  asset: addressJson,
  deposit: uint256Json,
  challengePeriod: optionalJson(uint64Json),
  payee: optionalJson(addressJson),
  reachTimeoutMs: optionalJson(int(1, MAX_REACH_TIMEOUT_MS)),
});

export const withdrawalView: Schema<WithdrawalView> = z.strictObject({
  participant,
  total: uint256Json,
  amount: uint256Json,
  expiry: uint64Json,
  status: oneOf(["proposed", "signed"]),
});

export const channelView: Schema<ChannelView> = z.strictObject({
  channelId: bytes32Json,
  participants: pair(addressJson),
  payees: pair(addressJson),
  asset: addressJson,
  challengePeriod: uint64Json,
  nonce: uint64Json,
  me: participant,
  status: oneOf(CHANNEL_STATUSES as [ChannelStatusName, ...ChannelStatusName[]]),
  deposits: pair(uint256Json),
  pendingDeposits: optionalJson(pair(uint256Json)),
  resyncRequired: optionalJson(z.literal(true)),
  withdrawn: pair(uint256Json),
  withdrawals: list(withdrawalView, 64),
  version: uint64Json,
  transferred: pair(uint256Json),
  balances: pair(uint256Json),
  locked: pair(uint256Json),
  payments: uint64Json,
  deadline: optionalJson(uint64Json),
});

export const paymentView: Schema<PaymentView> = z.strictObject({
  channelId: bytes32Json,
  seq: uint64Json,
  payer: participant,
  amount: uint256Json,
  ref: bytes32Json,
  version: uint64Json,
  committedAt: optionalJson(uint64Json),
  memo: optionalJson(text(MAX_MEMO_BYTES)),
  replayed: optionalJson(boolean),
});

export const txView: Schema<TxView> = z.strictObject({
  channelId: optionalJson(bytes32Json),
  hash: bytes32Json,
  blockNumber: uint64Json,
  gasUsed: uint256Json,
});

export const cashOutView: Schema<CashOutView> = z.strictObject({
  channelId: bytes32Json,
  participant,
  payee: addressJson,
  amount: uint256Json,
  total: uint256Json,
  expiry: uint64Json,
  status: oneOf(["executed", "signed"]),
  paid: optionalJson(uint256Json),
  tx: optionalJson(txView),
  reason: optionalJson(text(4096)),
});

/** A Merkle proof has at most 64 siblings (a log of up to 2^64 payments). */
export const proofView: Schema<ProofView> = z.strictObject({
  payment: paymentView,
  leaf: bytes32Json,
  proof: list(bytes32Json, 64),
  root: bytes32Json,
  stateVersion: uint64Json,
  verifiedOnChain: boolean,
});

/** An event of the node's log (`GET /v1/events` streams them; `POST /v1/events` pages them). */
export const eventView: Schema<EventView> = z.strictObject({
  id: z.string().regex(/^[0-9]{1,20}$/, "expected an event id as a decimal string"),
  type: text(64) as z.ZodType<EventView["type"], unknown>,
  channelId: optionalJson(bytes32Json),
  at: int(0, Number.MAX_SAFE_INTEGER),
  data: z.record(z.string(), z.json()),
});

const scopeName = oneOf(["admin", "read-only", "invoice"]);

const tokenFields = {
  id: uint64Json,
  scope: scopeName,
  name: text(200),
  createdAt: uint64Json,
  revokedAt: optionalJson(uint64Json),
};
export const tokenView: Schema<TokenView> = z.strictObject(tokenFields);
export const createdTokenView: Schema<CreatedTokenView> = z.strictObject({ ...tokenFields, token: text(200) });

/** A webhook endpoint and its delivery state (times unix ms). */
export const webhookView: Schema<WebhookView> = z.strictObject({
  id: uint64Json,
  url: text(2048),
  events: list(text(64), 64),
  secret: optionalJson(text(256)),
  createdAt: int(0, Number.MAX_SAFE_INTEGER),
  cursor: uint64Json,
  delivered: int(0, Number.MAX_SAFE_INTEGER),
  failures: int(0, Number.MAX_SAFE_INTEGER),
  attempts: int(0, Number.MAX_SAFE_INTEGER),
  nextAttemptAt: optionalJson(int(0, Number.MAX_SAFE_INTEGER)),
  lastError: optionalJson(text(1000)),
  lastErrorAt: optionalJson(int(0, Number.MAX_SAFE_INTEGER)),
});

// ---------------------------------------------------------------- request bodies

export const empty = z.strictObject({});
export const byChannel = z.strictObject({ channelId: bytes32Json });
export const byAsset = z.strictObject({ asset: addressJson });
export const channelAmount = z.strictObject({ channelId: bytes32Json, amount: uint256Json });
/**
 * A payment's reference in a body: `ref` (32-byte hex) or `memo` (text; the node checks its UTF-8
 * length, INVALID_MEMO beyond MAX_MEMO_BYTES), never both.
 */
const refOrMemo = { ref: optionalJson(bytes32Json), memo: optionalJson(text(4 * MAX_MEMO_BYTES)) };
export const payBody = z.strictObject({ channelId: bytes32Json, amount: uint256Json, ...refOrMemo });
export const paymentsBody = z.strictObject({
  channelId: bytes32Json,
  fromSeq: optionalJson(uint64Json),
  limit: optionalJson(int(1, MAX_PAYMENTS_LIMIT)),
  ...refOrMemo,
  direction: optionalJson(oneOf(["sent", "received"])),
  since: optionalJson(uint64Json),
  until: optionalJson(uint64Json),
});
export const mintBody = z.strictObject({ asset: addressJson, amount: uint256Json, to: optionalJson(addressJson) });
export const createTokenBody = z.strictObject({ scope: scopeName, name: optionalJson(text(200)) });
export const byTokenId = z.strictObject({ id: uint64Json });
/** A backup of the store: the absolute path of a new file on the node's machine (`force` replaces one). */
export const backupBody = z.strictObject({ file: text(4096), force: optionalJson(boolean) });
export const backupView: Schema<BackupView> = z.strictObject({
  file: text(4096),
  bytes: count,
  states: count,
  channels: list(z.strictObject({ channelId: bytes32Json, version: uint64Json }), 100_000),
});
/** A page of the event log: after an id (default 0), at most `limit` (default 1,000), only `types` if given. */
export const eventsBody = z.strictObject({
  after: optionalJson(uint64Json),
  limit: optionalJson(int(1, MAX_EVENTS_LIMIT)),
  types: optionalJson(list(text(64), 64, 1)),
});
/** A new webhook endpoint; the node checks the URL's scheme and the types (WEBHOOK_INVALID). */
export const addWebhookBody: Schema<AddWebhookRequest> = z.strictObject({
  url: text(2048),
  events: optionalJson(list(text(64), 64)),
  secret: optionalJson(text(256)),
});
export const byWebhookId = z.strictObject({ id: uint64Json });
export const proveBody = z.strictObject({ channelId: bytes32Json, seq: uint64Json });

// ---------------------------------------------------------------- errors

/** The body of every error reply: `{ "error": { "code", "message", "details"? } }`. */
export const errorReply = z.strictObject({
  error: z.strictObject({ code: text(128), message: text(4096), details: z.json().optional() }),
});

export type { Address, Hex };

// ---------------------------------------------------------------- routing

/** The largest page of forwards one request returns. */
export const MAX_FORWARDS_LIMIT = 1_000;
const FORWARD_STATUSES = ["pending", "settled", "cancelled"] as const;

export const forwardsBody: Schema<ForwardsQuery> = z.strictObject({
  before: optionalJson(uint64Json),
  limit: optionalJson(int(1, MAX_FORWARDS_LIMIT)),
  status: optionalJson(oneOf([...FORWARD_STATUSES])),
});

export const forwardView: Schema<ForwardView> = z.strictObject({
  id: uint64Json,
  hashlock: bytes32Json,
  asset: addressJson,
  inChannel: bytes32Json,
  outChannel: bytes32Json,
  nextHop: addressJson,
  amountIn: uint256Json,
  amountOut: uint256Json,
  fee: uint256Json,
  expiry: uint64Json,
  status: oneOf([...FORWARD_STATUSES]),
  error: optionalJson(text(4096)),
  createdAt: uint64Json,
  finishedAt: optionalJson(uint64Json),
});
