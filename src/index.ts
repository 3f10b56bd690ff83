/**
 * Sluice: two-party payment channels for Ethereum-style chains. The public API of the client
 * library and the node; everything else under src/ is internal.
 */

// Types, typed data, errors
export * from "./types";
export * from "./typedData";
export * from "./errors";

// Off-chain: hashing and signatures, the payment log, the channel state machine
export * from "./crypto";
export * from "./merkle";
export * from "./channel";

// On-chain: the adjudicator driver, its typed errors and events, local JSON-RPC nodes
export * from "./chain";

// Invoices: the codec (sluice1… and JSON), signatures, errors
export * from "./invoice";

// The node: store, peers, watcher, local API
export { SluiceNode, UnknownChannelIdError, NotYourChannelError, ChannelStatusError, type NodeOptions } from "./node/node";
export { CommitQueue, type CommitTiming } from "./node/commitQueue";
export { ChannelSession, PeerOfflineError, PeerRejectedError, SyncRejectedError } from "./node/session";
export { ChainWatcher, type WatcherHost, type WatcherOptions, type WatchedChannel } from "./node/watcher";
export { startNode, NodeConfigError, type NodeStartOptions } from "./node/start";
export { NodeProcess, NodeProcessError, type NodeProcessOptions } from "./node/process";
export { ChannelStore, StoreError, type ChannelRecord, type PaymentRecord, type ChannelStatus as StoredChannelStatus } from "./node/store";
export { ApiClient, ApiError, startApiServer, startLocalApi } from "./node/api";
export type { NodeApi, NodeInfo, AssetInfo, ChannelView, PaymentView, TxView, ProofView, OpenChannelRequest, CashOutView, WithdrawalView } from "./node/api";
export type { CreateInvoiceRequest, InvoiceView, InvoicesQuery, DecodedInvoiceView } from "./node/api";
export { InvoiceStore, type InvoiceRecord, type InvoiceQuery, type NewInvoice } from "./node/store/invoices";

// Routing through hubs: the payer's errors (ROUTE_FAILED, NO_ROUTE, ...), a hub's refusals, the fee arithmetic, the views
export {
  RouteFailedError,
  NoRouteError,
  RouteTooLongError,
  NotAHubError,
  ForwardRefusedError,
  ForwardFeeTooLowError,
  ForwardExpiryError,
  ForwardNoChannelError,
  ForwardInvoiceMismatchError,
  ForwardCancelledError,
  forwardFee,
  forwardTerms,
  planRoute,
  type HubFees,
  type ForwardTerms,
  type RoutePlan,
} from "./node/routing";
export type { ForwardView, ForwardsQuery, ForwardStatusName, HubView } from "./node/api";
export type { HubInfo, RouteBody, RouteHop, RouteFailure } from "./node/protocol";

// Webhooks: the receiver's check of a request, the endpoint types, the errors
export { verifyWebhook, signWebhook, InvalidWebhookError, UnknownWebhookError, WebhookSignatureError, SIGNATURE_HEADER, EVENT_IDS_HEADER, WEBHOOK_EVENT_TYPES, type WebhookBody, type WebhookDeliveryOptions } from "./node/webhooks";
export type { AddWebhookRequest, WebhookView } from "./node/api";
