/**
 * Channel store micro-benchmark: commits of countersigned states (state + payment leaf, both
 * signatures) into a real SQLite file (WAL, synchronous = FULL), one per commit and in batches.
 *
 *   npx ts-node --transpile-only scripts/bench-store.ts        (BENCH_SECONDS=2 per row by default)
 *
 * Every commit is fsynced, so the figures follow the disk's fsync latency, printed first.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { channelId } from "../src/crypto/hash";
import { ChannelStore, type CountersignedItem } from "../src/node/store";
import { ETH, ZERO_HASH, type Hex, type Params, type Payment, type SignedState } from "../src/types";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const PARAMS: Params = {
  participants: ["0x1111111111111111111111111111111111111111", "0x2222222222222222222222222222222222222222"],
  payees: ["0x1111111111111111111111111111111111111111", "0x2222222222222222222222222222222222222222"],
  asset: ETH,
  challengePeriod: 86_400n,
  nonce: 1n,
};
const CID = channelId(PARAMS);
const word = (tag: string, v: bigint, bytes: number): Hex =>
  `0x${tag}${v.toString(16).padStart(2 * bytes - tag.length, "0")}`;

function item(v: bigint): CountersignedItem {
  const signed: SignedState = {
    state: {
      channelId: CID,
      version: v,
      transferred: [10n ** 24n + v, v * 7n],
      locked: [0n, 0n],
      locksRoot: ZERO_HASH,
      paymentsRoot: word("ab", v, 32),
      isFinal: false,
    },
    sigs: [word("1b", v, 65), word("1c", v, 65)],
  };
  const payment: Payment = { channelId: CID, seq: v - 1n, payer: 0, amount: 10n ** 18n + v, ref: word("ee", v, 32) };
  return { channelId: CID, signed, payment };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

interface Row {
  label: string;
  commits: number;
  states: number;
  seconds: number;
  latencies: number[];
}

function report(row: Row): void {
  row.latencies.sort((a, b) => a - b);
  const cps = row.commits / row.seconds;
  const sps = row.states / row.seconds;
  console.log(
    `${row.label.padEnd(34)} ${cps.toFixed(0).padStart(8)} commits/s ${sps.toFixed(0).padStart(9)} states/s` +
      `   p50 ${quantile(row.latencies, 0.5).toFixed(3)} ms   p99 ${quantile(row.latencies, 0.99).toFixed(3)} ms`,
  );
}

function fsyncBaseline(dir: string): void {
  const file = path.join(dir, "fsync.bin");
  const fd = fs.openSync(file, "w");
  const buffer = Buffer.alloc(600, 0xa5);
  const latencies: number[] = [];
  const end = performance.now() + 1000 * Math.min(SECONDS, 1);
  while (performance.now() < end) {
    const t = performance.now();
    fs.writeSync(fd, buffer);
    fs.fdatasyncSync(fd);
    latencies.push(performance.now() - t);
  }
  fs.closeSync(fd);
  latencies.sort((a, b) => a - b);
  console.log(
    `disk: write+fdatasync of 600 bytes   p50 ${quantile(latencies, 0.5).toFixed(3)} ms   p99 ${quantile(latencies, 0.99).toFixed(3)} ms` +
      `   (${latencies.length} in ${Math.min(SECONDS, 1)} s)`,
  );
}

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-bench-store-"));
  try {
    console.log(
      `channel store benchmark: ${os.cpus()[0]?.model ?? "cpu"} x${os.cpus().length}, load ${os.loadavg()[0].toFixed(2)}, ${SECONDS} s per row`,
    );
    fsyncBaseline(dir);
    const store = ChannelStore.open(path.join(dir, "bench.db"));
    store.putChannel({ params: PARAMS, myIndex: 0, status: "open" });
    let v = 0n;

    // One countersigned state per commit (recordCountersigned).
    {
      const row: Row = {
        label: "recordCountersigned (1 per commit)",
        commits: 0,
        states: 0,
        seconds: 0,
        latencies: [],
      };
      const start = performance.now();
      const end = start + SECONDS * 1000;
      while (performance.now() < end) {
        const it = item(++v);
        const t = performance.now();
        store.recordCountersigned(CID, it.signed, it.payment);
        row.latencies.push(performance.now() - t);
        row.commits++;
        row.states++;
      }
      row.seconds = (performance.now() - start) / 1000;
      report(row);
    }

    // The payer's flow: own signature on disk, then the countersigned state (two commits).
    {
      const row: Row = { label: "own signature + countersigned", commits: 0, states: 0, seconds: 0, latencies: [] };
      const start = performance.now();
      const end = start + SECONDS * 1000;
      while (performance.now() < end) {
        const it = item(++v);
        const t = performance.now();
        store.recordOwnSignature(CID, it.signed.state, it.signed.sigs[0]);
        store.recordCountersigned(CID, it.signed, it.payment);
        row.latencies.push(performance.now() - t);
        row.commits += 2;
        row.states++;
      }
      row.seconds = (performance.now() - start) / 1000;
      report(row);
    }

    // Group commits: recordCountersignedBatch of 1, 10, 50, 200 states.
    for (const size of [1, 10, 50, 200]) {
      const row: Row = { label: `recordCountersignedBatch(${size})`, commits: 0, states: 0, seconds: 0, latencies: [] };
      let busy = 0;
      const end = performance.now() + SECONDS * 1000;
      while (performance.now() < end) {
        const items: CountersignedItem[] = [];
        for (let i = 0; i < size; i++) items.push(item(++v));
        const t = performance.now();
        store.recordCountersignedBatch(items);
        const dt = performance.now() - t;
        busy += dt;
        row.latencies.push(dt);
        row.commits++;
        row.states += size;
      }
      row.seconds = busy / 1000; // time inside the store (item construction excluded)
      report(row);
    }

    const file = path.join(dir, "bench.db");
    store.close();
    console.log(
      `${v} states written; database ${(fs.statSync(file).size / 1e6).toFixed(1)} MB (${(fs.statSync(file).size / Number(v)).toFixed(0)} bytes per state with its payment)`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
