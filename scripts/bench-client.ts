/**
 * Client hot-path figures on one core, in one process: `npm run bench:client`.
 * Signing and verification (native libsecp256k1 and pure JS), state digests (fast path and
 * ethers' TypedDataEncoder), Merkle appends and proofs, and full two-party payments both ways:
 * one at a time, and pipelined (participant 0 sequencing, 64 proposals in flight).
 */
import { randomBytes } from "node:crypto";
import { Countersigner, Sequencer, encodeMessage, type ChannelMessage, type PaymentProposal } from "../src/channel";
import { EcdsaVerifier, KeySigner, StateHasher, nativeSecp256k1, keccak256Native } from "../src/crypto";
import { MerkleTree } from "../src/merkle";
import { sluiceDomain, typedDataDigest } from "../src/typedData";
import type { Address, Hex, Params } from "../src/types";
import { ETH } from "../src/types";
import { randomStates } from "./bench/micro";

const hex = (b: Uint8Array): Hex => `0x${Buffer.from(b).toString("hex")}`;

function rate(name: string, n: number, run: (i: number) => void): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) run(i);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const perSecond = n / seconds;
  console.log(`${name.padEnd(44)} ${Math.round(perSecond).toLocaleString("en-US").padStart(12)} /s`);
  return perSecond;
}

async function rateAsync(name: string, n: number, run: (i: number) => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await run(i);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const perSecond = n / seconds;
  console.log(`${name.padEnd(44)} ${Math.round(perSecond).toLocaleString("en-US").padStart(12)} /s`);
  return perSecond;
}

async function main(): Promise<void> {
  console.log(`native secp256k1: ${nativeSecp256k1 ? "yes" : "no"}, native keccak: ${keccak256Native ? "yes" : "no"}, node ${process.version}\n`);
  const key = hex(randomBytes(32));
  const digests = Array.from({ length: 1000 }, () => randomBytes(32));

  // ---------------------------------------------------------------- signatures
  for (const kind of ["native", "js"] as const) {
    const signer = new KeySigner(key, kind);
    const n = kind === "native" ? 20_000 : 2_000;
    rate(`sign (${kind})`, n, (i) => signer.sign(digests[i % 1000]));
    const sigs = digests.map((d) => signer.sign(d));
    const verifier = new EcdsaVerifier(kind);
    rate(`verify against address (${kind})`, kind === "native" ? 20_000 : 1_000, (i) => {
      if (!verifier.verify(signer.address, digests[i % 1000], sigs[i % 1000])) throw new Error("bad signature");
    });
  }

  // ---------------------------------------------------------------- digests
  const adjudicator = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address;
  const hasher = new StateHasher(31337n, adjudicator);
  const states = randomStates(1000, 10n ** 18n);
  rate("state digest (StateHasher)", 200_000, (i) => hasher.digest(states[i % 1000]));
  const domain = sluiceDomain(31337n, adjudicator);
  rate("state digest (ethers TypedDataEncoder)", 5_000, (i) => typedDataDigest(domain, states[i % 1000]));

  // ---------------------------------------------------------------- Merkle
  const leaves = randomBytes(32 * 1_000_000);
  const leaf = (i: number) => leaves.subarray(32 * i, 32 * i + 32);
  {
    const tree = new MerkleTree();
    rate("Merkle append, tree of 0 -> 10^3 leaves", 1000, (i) => tree.append(leaf(i)));
  }
  const big = new MerkleTree();
  rate("Merkle append, tree of 0 -> 10^6 leaves", 1_000_000, (i) => big.append(leaf(i)));
  const more = randomBytes(32 * 100_000);
  rate("Merkle append at 10^6 (+10^5 more)", 100_000, (i) => big.append(more.subarray(32 * i, 32 * i + 32)));
  rate("Merkle root at 1.1x10^6 (fresh each time)", 100_000, (i) => big.rootWith(leaf(i)));
  let slowest = 0;
  const proofs = 2000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < proofs; i++) {
    const t = process.hrtime.bigint();
    big.proof(Math.floor(Math.random() * big.size));
    slowest = Math.max(slowest, Number(process.hrtime.bigint() - t) / 1e6);
  }
  const mean = Number(process.hrtime.bigint() - start) / 1e6 / proofs;
  console.log(`${"Merkle proof at 1.1x10^6 leaves".padEnd(44)} mean ${(mean * 1000).toFixed(1)} us, max ${slowest.toFixed(3)} ms`);

  // ---------------------------------------------------------------- full payments
  // Both directions alternate: participant 0 pays directly, participant 1 through a request that
  // participant 0 turns into a proposal. One process, no network, no disk.
  const keys = [new KeySigner(hex(randomBytes(32))), new KeySigner(hex(randomBytes(32)))] as const;
  const params: Params = {
    participants: [keys[0].address, keys[1].address],
    payees: [keys[0].address, keys[1].address],
    asset: ETH,
    challengePeriod: 3600n,
    nonce: 1n,
  };
  const makeSides = () =>
    [
      new Sequencer({ params, signer: keys[0], chainId: 31337n, adjudicator, deposits: [10n ** 30n, 10n ** 30n] }),
      new Countersigner({ params, signer: keys[1], chainId: 31337n, adjudicator, deposits: [10n ** 30n, 10n ** 30n] }),
    ] as const;
  const asObjects = (m: ChannelMessage): unknown => m;
  const asJson = (m: ChannelMessage): unknown => JSON.parse(JSON.stringify(encodeMessage(m)));
  const propose = async (sides: readonly [Sequencer, Countersigner], i: number, wire: (m: ChannelMessage) => unknown): Promise<PaymentProposal> =>
    (i & 1) === 0 ? sides[0].pay(1n) : sides[0].receiveRequest(wire(await sides[1].requestPayment(1n)));
  const figures: [string, number][] = [];
  for (const [form, wire] of [
    ["objects", asObjects],
    ["JSON text both ways", asJson],
  ] as const) {
    const sides = makeSides();
    const perSecond = await rateAsync(`two-party payments, one at a time (${form})`, 5_000, async (i) => {
      const proposal = await propose(sides, i, wire);
      await sides[0].receiveAck(wire((await sides[1].countersign(wire(proposal))).send));
    });
    figures.push([`one at a time (${form})`, perSecond]);
  }
  const WINDOW = 64;
  const TOTAL = 20_000;
  for (const [form, wire] of [
    ["objects", asObjects],
    ["JSON text both ways", asJson],
  ] as const) {
    const sides = makeSides();
    const start = process.hrtime.bigint();
    // Participant 0 keeps up to WINDOW proposals in flight; participant 1 countersigns them in
    // order as they arrive, and participant 0 commits the acks in order.
    const toP1: unknown[] = [];
    const toP0: unknown[] = [];
    let proposed = 0;
    let committed = 0;
    while (committed < TOTAL) {
      while (proposed < TOTAL && proposed - committed < WINDOW) toP1.push(wire(await propose(sides, proposed++, wire)));
      for (const message of toP1.splice(0)) toP0.push(wire((await sides[1].countersign(message)).send));
      for (const message of toP0.splice(0)) {
        await sides[0].receiveAck(message);
        committed++;
      }
    }
    const perSecond = TOTAL / (Number(process.hrtime.bigint() - start) / 1e9);
    if (sides[0].latest.state.version !== BigInt(TOTAL) || sides[1].latest.state.version !== BigInt(TOTAL)) throw new Error("sides diverged");
    console.log(`${`two-party payments, ${WINDOW} in flight (${form})`.padEnd(44)} ${Math.round(perSecond).toLocaleString("en-US").padStart(12)} /s`);
    figures.push([`${WINDOW} in flight (${form})`, perSecond]);
  }
  console.log(
    `\npipelined / one at a time: ${(figures[2][1] / figures[0][1]).toFixed(2)}x (objects), ${(figures[3][1] / figures[1][1]).toFixed(2)}x (JSON);` +
      " both sides share this one core, so two processes have about twice the budget",
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
