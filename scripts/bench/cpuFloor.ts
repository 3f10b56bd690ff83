/**
 * The CPU floor of one payment per state, per side, from its parts measured alone in this
 * process: the cryptography of one state (sign, verify, the state digest, the payment leaf, the
 * log append and its new root), one group commit of a countersigned state with its payment
 * (SQLite, WAL, synchronous FULL), and the round of the machine floor (floor.ts: the metronome's
 * wake-up, one loopback TCP write and read, one fsync'd 12 KiB write) less that write alone.
 */
import fs from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { channelId as channelIdOf, paymentLeaf, StateHasher } from "../../src/crypto/hash";
import { KeySigner } from "../../src/crypto/signer";
import { EcdsaVerifier } from "../../src/crypto/verifier";
import { PaymentLog } from "../../src/merkle/paymentLog";
import { ChannelStore } from "../../src/node/store";
import { ETH, ZERO_HASH, type Address, type Hex, type Payment, type State } from "../../src/types";
import { machineFloor } from "./floor";

export interface CpuFloor {
  /** Sign, verify, digest, leaf, log append and root of one state with one payment (µs). */
  cryptoUs: number;
  /** One group commit of a countersigned state and its payment (µs). */
  commitUs: number;
  /** One 12 KiB write and its fsync, as the machine floor's round does (µs). */
  fsyncWriteUs: number;
  /** CPU per round of the machine floor at 1,000/s: payer (metronome included), payee (µs). */
  roundUs: [number, number];
  /** cryptoUs + commitUs + roundUs - fsyncWriteUs, per side. */
  floorUs: [number, number];
}

function cpuPer(n: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(200, n); i++) fn(i); // warm-up
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) fn(i);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

const A: Address = "0x00000000000000000000000000000000000a11ce";
const B: Address = "0x0000000000000000000000000000000000000b0b";
const refOf = (i: number): Hex => `0x${(i + 1).toString(16).padStart(64, "0")}`;

function cryptoPerState(n: number): number {
  const signer = new KeySigner(`0x${"11".repeat(32)}`);
  const verifier = new EcdsaVerifier();
  const hasher = new StateHasher(31337n, B);
  const channelId = channelIdOf({ participants: [A, B], payees: [A, B], asset: ETH, challengePeriod: 600n, nonce: 1n });
  const log = new PaymentLog();
  // A log of some size, as a channel that has run for a while has (the root folds its peaks).
  for (let i = 0; i < 20_000; i++) log.append({ channelId, seq: BigInt(i), payer: 0, amount: 1n, ref: refOf(i) });
  return cpuPer(n, (i) => {
    const seq = BigInt(log.size);
    const payment: Payment = { channelId, seq, payer: 0, amount: 1n, ref: refOf(i) };
    paymentLeaf(payment);
    log.append(payment);
    const state: State = { channelId, version: seq + 1n, transferred: [seq + 1n, 0n], locked: [0n, 0n], locksRoot: ZERO_HASH, paymentsRoot: log.root, isFinal: false };
    const digest = hasher.digest(state);
    if (!verifier.verify(signer.address, digest, signer.sign(digest))) throw new Error("the signature did not verify");
  });
}

function commitPerState(dir: string, n: number): number {
  const store = ChannelStore.open(path.join(dir, "store.sqlite"));
  try {
    const params = { participants: [A, B] as [Address, Address], payees: [A, B] as [Address, Address], asset: ETH, challengePeriod: 600n, nonce: 1n };
    const channelId = channelIdOf(params);
    store.putChannel({ params, myIndex: 0, status: "open" });
    const sig: Hex = `0x${"ab".repeat(64)}1b`;
    let v = 0;
    return cpuPer(n, () => {
      const seq = BigInt(v++);
      const payment: Payment = { channelId, seq, payer: 0, amount: 1n, ref: refOf(v) };
      const state: State = { channelId, version: seq + 1n, transferred: [seq + 1n, 0n], locked: [0n, 0n], locksRoot: ZERO_HASH, paymentsRoot: refOf(v + 7), isFinal: false };
      store.transaction(() => store.recordCountersignedInGroup(channelId, { state, sigs: [sig, sig] }, [payment], [refOf(v + 3)]));
    });
  } finally {
    store.close();
  }
}

function fsyncWrite(dir: string, n: number): number {
  const fd = fs.openSync(path.join(dir, "journal"), "w");
  const record = Buffer.alloc(12 * 1024, 1);
  for (let i = 0; i < 256; i++) fs.writeSync(fd, record, 0, record.length, i * record.length);
  fs.fsyncSync(fd);
  try {
    return cpuPer(n, (i) => {
      fs.writeSync(fd, record, 0, record.length, (i % 256) * record.length);
      fs.fsyncSync(fd);
    });
  } finally {
    fs.closeSync(fd);
  }
}

export async function cpuFloor(seconds = 4): Promise<CpuFloor> {
  const dir = fs.mkdtempSync(path.join(tmpdir(), "sluice-cpu-floor-"));
  try {
    const cryptoUs = cryptoPerState(2_000);
    const commitUs = commitPerState(dir, 2_000);
    const fsyncWriteUs = fsyncWrite(dir, 2_000);
    const [run] = await machineFloor([{ rate: 1_000, burnUs: 0 }], seconds);
    const roundUs = run.cpuUsPerRound!;
    const side = (i: 0 | 1) => Math.round(cryptoUs + commitUs + roundUs[i] - fsyncWriteUs);
    const r = (x: number) => Math.round(x);
    return { cryptoUs: r(cryptoUs), commitUs: r(commitUs), fsyncWriteUs: r(fsyncWriteUs), roundUs, floorUs: [side(0), side(1)] };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  cpuFloor().then(
    (f) => console.log(JSON.stringify(f)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
