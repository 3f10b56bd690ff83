/**
 * Where each routed payment's time went, read back from the bench's stores once its nodes have
 * stopped: the hub's, the payers' and the payees' events and records (each written by a group
 * commit, at the store's clock, unix ms), against when the payment was offered.
 */
import Database from "better-sqlite3";
import path from "node:path";

/** A payment's steps, in the order they happen, and the store and event that mark each. */
export const STEPS = [
  "payer: payment recorded",
  "payer: lock A→H countersigned",
  "hub: lock A→H stored",
  "hub: forward stored",
  "payee: lock H→C countersigned",
  "hub: lock H→C stored",
  "payee: invoice paid (secret on disk)",
  "payee: unlock C→H countersigned",
  "hub: unlock C→H stored",
  "payer: unlock H→A countersigned",
  "hub: unlock H→A stored",
  "payer: payment finished",
] as const;
export type Step = (typeof STEPS)[number];

interface EventRow {
  type: string;
  chan: string;
  at: number;
  data: string;
}

/** Each hashlock's steps (unix ms) found in one node's store. */
function stepsOf(file: string, role: "payer" | "hub" | "payee", into: Map<string, Partial<Record<Step, number>>>): void {
  const db = new Database(file, { readonly: true });
  try {
    const at = (hashlock: string) => {
      const key = hashlock.toLowerCase();
      let steps = into.get(key);
      if (!steps) into.set(key, (steps = {}));
      return steps;
    };
    // On the hub, the lock from a payer and the lock to a payee: told apart by who sent them (the hub proposes, as participant 0).
    for (const e of db.prepare("SELECT type, chan, at, data FROM events WHERE type IN ('lock.added', 'lock.settled', 'lock.forwarded') ORDER BY id").all() as EventRow[]) {
      const data = JSON.parse(e.data) as { hashlock: string; sender?: number };
      const steps = at(data.hashlock);
      const fromHub = data.sender === 0;
      if (role === "payer") {
        if (e.type === "lock.added") steps["payer: lock A→H countersigned"] = e.at;
        if (e.type === "lock.settled") steps["payer: unlock H→A countersigned"] = e.at;
      } else if (role === "payee") {
        if (e.type === "lock.added") steps["payee: lock H→C countersigned"] = e.at;
        if (e.type === "lock.settled") steps["payee: unlock C→H countersigned"] = e.at;
      } else if (e.type === "lock.forwarded") steps["hub: forward stored"] = e.at;
      else if (e.type === "lock.added") steps[fromHub ? "hub: lock H→C stored" : "hub: lock A→H stored"] = e.at;
      else steps[fromHub ? "hub: unlock C→H stored" : "hub: unlock H→A stored"] = e.at;
    }
    if (role === "payer") {
      for (const p of db.prepare("SELECT hashlock, started_at, finished_at FROM invoice_payments").all() as { hashlock: string; started_at: number; finished_at: number | null }[]) {
        const steps = at(p.hashlock);
        steps["payer: payment recorded"] = p.started_at;
        if (p.finished_at !== null) steps["payer: payment finished"] = p.finished_at;
      }
    }
    if (role === "payee") {
      for (const e of db.prepare("SELECT at, data FROM events WHERE type = 'invoice.paid'").all() as EventRow[]) {
        const data = JSON.parse(e.data) as { hashlock?: string };
        if (data.hashlock) at(data.hashlock)["payee: invoice paid (secret on disk)"] = e.at;
      }
    }
  } finally {
    db.close();
  }
}

/** Each step's median (ms) since the step before and since the payment was offered. */
export interface StepTimes {
  step: Step;
  sinceBefore: number;
  sinceOffered: number;
}

/**
 * The steps of the payments offered at `dueAt` (unix ms, one per payment; the bench's stores in
 * `work`: hub/, payers/, payees/ with `pairs` nodes each): medians over the payments whose payer
 * recorded them within [first offer, last offer + `slackMs`], matched to the offers in order.
 */
export function stepBreakdown(work: string, pairs: number, dueAt: readonly number[], slackMs = 2_000): { payments: number; steps: StepTimes[] } {
  const steps = new Map<string, Partial<Record<Step, number>>>();
  stepsOf(path.join(work, "hub", "node-0.sqlite"), "hub", steps);
  for (let j = 0; j < pairs; j++) {
    stepsOf(path.join(work, "payers", `node-${j}.sqlite`), "payer", steps);
    stepsOf(path.join(work, "payees", `node-${j}.sqlite`), "payee", steps);
  }
  const offers = [...dueAt].sort((a, b) => a - b);
  const from = Math.floor(offers[0] ?? 0);
  const to = (offers[offers.length - 1] ?? 0) + slackMs;
  const timed = [...steps.values()]
    .filter((s) => s["payer: payment finished"] !== undefined && s["payer: payment recorded"]! >= from && s["payer: payment recorded"]! <= to)
    .sort((a, b) => a["payer: payment recorded"]! - b["payer: payment recorded"]!)
    .slice(0, offers.length);
  const sinceBefore: Partial<Record<Step, number[]>> = {};
  const sinceOffered: Partial<Record<Step, number[]>> = {};
  timed.forEach((s, i) => {
    let before = offers[i];
    for (const step of STEPS) {
      const t = s[step];
      if (t === undefined) continue;
      (sinceBefore[step] ??= []).push(t - before);
      (sinceOffered[step] ??= []).push(t - offers[i]);
      before = t;
    }
  });
  const med = (xs: number[] = []) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return sorted.length === 0 ? NaN : Math.round(sorted[Math.floor((sorted.length - 1) / 2)] * 10) / 10;
  };
  return { payments: timed.length, steps: STEPS.map((step) => ({ step, sinceBefore: med(sinceBefore[step]), sinceOffered: med(sinceOffered[step]) })) };
}
