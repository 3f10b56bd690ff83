export { ChannelStore, type BlockHash } from "./ChannelStore";
export { SCHEMA_VERSION, APPLICATION_ID } from "./migrations";
export { EventLog, DEFAULT_EVENTS_PAGE, EVENT_TYPES, MAX_EVENTS_PAGE, type EventData, type EventRecord, type EventType } from "./events";
export {
  StoreError,
  StoreOpenError,
  SchemaTooNewError,
  MigrationError,
  InvalidRecordError,
  UnknownChannelError,
  ChannelConflictError,
  NonIncreasingVersionError,
  OwnSignatureConflictError,
  StateAfterFinalError,
  PaymentSequenceError,
  ChannelResyncRequiredError,
  BackupExistsError,
  BackupInvalidError,
  NodeRunningError,
  StoreNewerError,
  StoreIdentityError,
} from "./errors";
export { restoreBackup, type NodeIdentity, type RestoreOptions, type RestoreResult, type StoreSummary } from "./backup";
export {
  CHANNEL_STATUSES,
  type ChannelStatus,
  type ChannelRecord,
  type NewChannel,
  type OwnSignature,
  type PaymentRecord,
  type AddedPayments,
  type CountersignedItem,
  type PaymentQuery,
  type OpenOptions,
  type WithdrawalRow,
  type WithdrawalStatus,
  WITHDRAWAL_STATUSES,
} from "./types";
