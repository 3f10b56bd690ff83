"use strict";
/**
 * The compiled build: src/ (with typechain-types/ and the bench's node harness) compiled by
 * tsconfig.build.json into dist/, which `sluice` and every node process run.
 *
 *   node bin/build.js     compiles now (`npm run build`, and `npm install` after `hardhat compile`)
 *   node bin/build.js --if-stale   the same as ensureBuilt(), for TypeScript callers
 *   ensureBuilt()         compiles first if a source is newer than the last build, so an edited
 *                         src/ is never run stale (bin/sluice.js, NodeProcess, the bench harness)
 *
 * The dashboard's static files (ASSETS) are copied into dist/ beside the compiled code.
 *
 * dist/.built marks a finished build; its mtime is the time the build started. Concurrent callers
 * (several CLI processes at once) build once: the others wait for the lock directory.
 */
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const DIST = path.join(ROOT, "dist");
const STAMP = path.join(DIST, ".built");
const LOCK = path.join(ROOT, ".dist.lock");
const TSCONFIG = path.join(ROOT, "tsconfig.build.json");
/** What the build reads: a change to any of these makes dist/ stale. */
const SOURCES = ["src", "typechain-types", "scripts/bench", "tsconfig.json", "tsconfig.build.json"];
/** Files the compiled code reads beside itself, copied as they are (the dashboard's page). */
const ASSETS = ["src/dashboard/static"];
/** A lock older than this was left by a killed build. */
const STALE_LOCK_MS = 5 * 60_000;

function newestSourceMs(file) {
  let stat;
  try {
    stat = fs.statSync(file);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a deleted or renamed file changes its folder's mtime
  for (const name of fs.readdirSync(file)) newest = Math.max(newest, newestSourceMs(path.join(file, name)));
  return newest;
}

/** Whether dist/ is missing or older than a source (false without src/: a build shipped without sources). */
function isStale() {
  if (!fs.existsSync(path.join(ROOT, "src"))) return false;
  let built;
  try {
    built = fs.statSync(STAMP).mtimeMs;
  } catch {
    return true;
  }
  return SOURCES.some((source) => newestSourceMs(path.join(ROOT, source)) > built);
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function withLock(fn) {
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      try {
        if (Date.now() - fs.statSync(LOCK).mtimeMs > STALE_LOCK_MS) fs.rmSync(LOCK, { recursive: true, force: true });
      } catch {
        // released meanwhile
      }
      sleep(100);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

/** Compiles src/ into dist/; throws with the compiler's output if it fails. */
function build() {
  const started = new Date();
  let tsc;
  try {
    tsc = require.resolve("typescript/bin/tsc", { paths: [ROOT] });
  } catch (error) {
    throw new Error("can't compile src/: the typescript package is not installed (npm install)", { cause: error });
  }
  try {
    execFileSync(process.execPath, [tsc, "-p", TSCONFIG], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  } catch (error) {
    throw new Error(`compiling src/ failed (tsc -p tsconfig.build.json):\n${error.stdout || ""}${error.stderr || error.message}`, { cause: error });
  }
  for (const asset of ASSETS) {
    const target = path.join(DIST, asset);
    fs.rmSync(target, { recursive: true, force: true });
    fs.cpSync(path.join(ROOT, asset), target, { recursive: true });
  }
  fs.writeFileSync(STAMP, `${started.toISOString()}\n`);
  fs.utimesSync(STAMP, started, started);
}

/** Compiles first if dist/ is missing or older than its sources. */
function ensureBuilt() {
  if (!isStale()) return;
  withLock(() => {
    if (!isStale()) return; // another process built it while this one waited
    process.stderr.write("sluice: compiling src/ into dist/ (it changed since the last build)\n");
    build();
  });
}

module.exports = { DIST, ROOT, build, ensureBuilt, isStale };

if (require.main === module) {
  try {
    if (process.argv.includes("--if-stale")) ensureBuilt();
    else withLock(build);
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  }
}
