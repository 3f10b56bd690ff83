/** The watchtower: watches other nodes' channels and refutes stale challenges for them. */
export { Tower, TOWER_CURSOR, type TowerOptions } from "./tower";
export { TowerBook } from "./book";
export { TowerStore, type TowerClientRecord, type WatchedState } from "./store";
export { TowerBadSignatureError, TowerChannelMismatchError, TowerNotYourChannelError } from "./errors";
export * from "./messages";
