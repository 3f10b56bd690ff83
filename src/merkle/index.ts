export { MerkleTree, hashPair } from "./tree";
export { PaymentLog, type PaymentProof } from "./paymentLog";
