/**
 * The node's key on disk: an encrypted JSON keystore (Web3 Secret Storage, scrypt), the format
 * ethers, geth and MetaMask read. `sluice key new|import|show` and `sluice node start --keystore`
 * go through here.
 */
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { Wallet, getAddress, isHexString } from "ethers";
import { SluiceError } from "../errors";
import type { Address, Hex } from "../types";

/** A keystore file can't be created, read or decrypted; the message names the file and the cause. */
export class KeystoreError extends SluiceError {
  static override readonly code: string = "KEYSTORE";
  override readonly name: string = "KeystoreError";
}

/** The password a keystore is encrypted with: at least this long, so a stolen file isn't trivially opened. */
export const MIN_PASSWORD_LENGTH = 8;

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new KeystoreError(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
}

function parsePrivateKey(text: string): Hex {
  const key = text.trim().startsWith("0x") ? text.trim() : `0x${text.trim()}`;
  if (!isHexString(key, 32)) throw new KeystoreError("a private key is 32 bytes of hex (64 hex digits, 0x optional)");
  if (/^0x0{64}$/.test(key)) throw new KeystoreError("the private key is zero");
  return key.toLowerCase() as Hex;
}

/**
 * Writes a new keystore for `privateKey` (a fresh random key when absent) and returns its
 * address. Never overwrites: an existing file is refused and left as it was.
 */
export async function createKeystore(file: string, password: string, privateKey?: string): Promise<Address> {
  checkPassword(password);
  let wallet: Wallet;
  try {
    wallet = new Wallet(privateKey === undefined ? Wallet.createRandom().privateKey : parsePrivateKey(privateKey));
  } catch (cause) {
    if (cause instanceof KeystoreError) throw cause;
    throw new KeystoreError("the private key is not a valid secp256k1 key", { cause });
  }
  const json = await wallet.encrypt(password);
  let fd: number;
  try {
    fd = openSync(file, "wx", 0o600);
  } catch (cause) {
    const exists = (cause as NodeJS.ErrnoException).code === "EEXIST";
    throw new KeystoreError(exists ? `${file} exists already: not overwritten` : `cannot create ${file}`, { cause });
  }
  try {
    writeSync(fd, json);
  } finally {
    closeSync(fd);
  }
  return getAddress(wallet.address) as Address;
}

function readJson(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (cause) {
    throw new KeystoreError(`cannot read the keystore ${file}`, { cause });
  }
}

/** The address a keystore holds, read from the file without its password. */
export function keystoreAddress(file: string): Address {
  const json = readJson(file);
  let address: unknown;
  try {
    address = (JSON.parse(json) as { address?: unknown }).address;
  } catch (cause) {
    throw new KeystoreError(`${file} is not a JSON keystore`, { cause });
  }
  if (typeof address !== "string" || !/^(0x)?[0-9a-fA-F]{40}$/.test(address)) throw new KeystoreError(`${file} holds no address`);
  return getAddress(address.startsWith("0x") ? address : `0x${address}`) as Address;
}

/** The private key in a keystore. */
export async function readKeystore(file: string, password: string): Promise<Hex> {
  const json = readJson(file);
  try {
    return (await Wallet.fromEncryptedJson(json, password)).privateKey as Hex;
  } catch (cause) {
    throw new KeystoreError(`cannot decrypt the keystore ${file}: wrong password, or not a keystore`, { cause });
  }
}
