/**
 * Summarizes a V8 .cpuprofile (as `node --cpu-prof` writes it): self time per function, over the
 * whole profile or the samples inside a time window (process.hrtime µs, the clock V8 stamps
 * samples with on Linux).
 */
import { readFileSync } from "node:fs";
import path from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  function: string;
  where: string;
  selfMs: number;
  /** Share of the sampled time in the window, idle included. */
  percent: number;
}

export interface ProfileSummary {
  file: string;
  windowMs: number;
  sampledMs: number;
  idlePercent: number;
  gcPercent: number;
  /** Self time grouped by area (the file's folder: src/node/store, node_modules/ws, ...). */
  byArea: { area: string; selfMs: number; percent: number }[];
  top: ProfileEntry[];
}

const ROOT = path.resolve(__dirname, "..", "..");

function shortUrl(url: string): string {
  let u = url.replace(/^file:\/\//, "");
  if (u.startsWith(ROOT)) u = u.slice(ROOT.length + 1);
  const nm = u.lastIndexOf("node_modules/");
  if (nm >= 0) u = u.slice(nm);
  return u;
}

function areaOf(name: string, url: string): string {
  if (name === "(idle)" || name === "(program)" || name === "(garbage collector)") return name;
  const u = shortUrl(url);
  if (u === "") return "(native / V8 builtins)";
  if (u.startsWith("node:")) return `node:${u.slice(5).split("/")[0]}`;
  const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  if (m) return m[1];
  return path.dirname(u);
}

export function summarizeProfile(file: string, window?: [number, number], top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = profile.startTime;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (window && (t < window[0] || t > window[1])) continue;
    // A sample's duration is the gap to the next one.
    const next = profile.timeDeltas[i + 1] ?? delta;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + next);
    total += next;
  }
  const byFunction = new Map<string, { name: string; where: string; us: number }>();
  const byArea = new Map<string, number>();
  let idle = 0;
  let gc = 0;
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    const f = node.callFrame;
    const name = f.functionName || "(anonymous)";
    if (name === "(idle)") idle += us;
    if (name === "(garbage collector)") gc += us;
    const where = f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : "";
    const key = `${name}@${where}`;
    const entry = byFunction.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
    const area = areaOf(name, f.url);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
  }
  const pct = (us: number) => Math.round((1000 * us) / Math.max(1, total)) / 10;
  const ms = (us: number) => Math.round(us / 100) / 10;
  return {
    file: path.basename(file),
    windowMs: window ? ms(window[1] - window[0]) : ms(profile.endTime - profile.startTime),
    sampledMs: ms(total),
    idlePercent: pct(idle),
    gcPercent: pct(gc),
    byArea: [...byArea.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([area, us]) => ({ area, selfMs: ms(us), percent: pct(us) })),
    top: [...byFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({ function: e.name, where: e.where, selfMs: ms(e.us), percent: pct(e.us) })),
  };
}

if (require.main === module) {
  const [file, from, to] = process.argv.slice(2);
  if (!file) throw new Error("usage: profile.ts FILE.cpuprofile [fromUs toUs]");
  const summary = summarizeProfile(file, from && to ? [Number(from), Number(to)] : undefined);
  console.log(JSON.stringify(summary, null, 2));
}
