/** Chain access: the adjudicator driver, its typed errors and events, and local JSON-RPC nodes. */
export * from "./driver";
export * from "./errors";
export * from "./events";
export * from "./localNode";
export * from "./confirmations";
export * from "./sender";
export * from "./fees";
export * from "./feeCap";
export * from "./failover";
