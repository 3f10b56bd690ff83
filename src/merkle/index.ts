export { MerkleTree, hashPair } from "./tree";
export { PaymentLog, type PaymentProof } from "./paymentLog";
export { LocksTree, type LockProof } from "./locks";
