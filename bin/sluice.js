#!/usr/bin/env node
"use strict";
// The `sluice` command: runs the compiled CLI (dist/, see build.js), compiling first if src/ changed.
const path = require("node:path");
const { DIST, ensureBuilt } = require("./build");

try {
  ensureBuilt();
} catch (error) {
  process.stderr.write(`sluice: ${error.message}\n`);
  process.exit(1);
}
const { main } = require(path.join(DIST, "src", "cli", "main.js"));

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`sluice: ${error && error.stack ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
