export { keccak256Bytes, keccak256Js, keccak256Native, type Keccak256 } from "./keccak";
export {
  StateHasher,
  channelId,
  paymentHash,
  paymentLeaf,
  paymentLeafHex,
  lockHash,
  lockLeaf,
  lockLeafHex,
  hashlockOf,
  toHex,
  fromHex,
  MAX_UINT64,
  MAX_UINT256,
} from "./hash";
export {
  secp256k1Backend,
  nativeSecp256k1,
  jsSecp256k1,
  isCanonicalSignature,
  publicKeyToAddress,
  type Secp256k1Backend,
  type Secp256k1Kind,
} from "./secp256k1";
export { KeySigner, type StateSigner } from "./signer";
export { EcdsaVerifier, defaultVerifier, type SignatureVerifier } from "./verifier";
