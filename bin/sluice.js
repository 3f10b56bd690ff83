#!/usr/bin/env node
"use strict";
// The `sluice` command: runs src/cli/main.ts through ts-node (transpile only: type checking is
// `npm run lint`'s job, and it would cost seconds per command).
const path = require("node:path");

const root = path.resolve(__dirname, "..");
require("ts-node").register({ transpileOnly: true, project: path.join(root, "tsconfig.json") });
const { main } = require(path.join(root, "src", "cli", "main.ts"));

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`sluice: ${error && error.stack ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
