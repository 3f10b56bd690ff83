/**
 * `sluice key new|import|show <file>`: the node's keystore (an encrypted JSON key file, the format
 * geth and ethers read), for `sluice node start --keystore <file>`. The password comes from
 * SLUICE_KEYSTORE_PASSWORD, the same variable the node reads; an imported key from stdin, never
 * from the command line (it would stay in the shell's history).
 */
import type { Command, Context, Output } from "./commands";
import { UsageError } from "./errors";

const PASSWORD_VARIABLE = "SLUICE_KEYSTORE_PASSWORD";

function password(ctx: Context): string {
  const value = ctx.env[PASSWORD_VARIABLE];
  if (value === undefined || value === "") throw new UsageError(`set ${PASSWORD_VARIABLE} to the keystore's password`);
  return value;
}

function created(file: string, address: string): Output {
  return {
    json: { keystore: file, address },
    text: `${address}\nkeystore ${file}: start a node with it by \`sluice node start --keystore ${file}\` (${PASSWORD_VARIABLE} set)`,
  };
}

const keystore = () => import("../node/keystore");

export const KEY_COMMANDS: readonly Command[] = [
  {
    name: "key new",
    usage: "key new <file>",
    summary: "create a keystore with a fresh key (password from SLUICE_KEYSTORE_PASSWORD)",
    help: "Generates a new private key and writes it to <file>, encrypted with the password in\nSLUICE_KEYSTORE_PASSWORD (at least 8 characters). Never overwrites a file. Prints the address.",
    options: {},
    positionals: [1, 1],
    async run(ctx, [file]) {
      const target = ctx.resolvePath(file);
      return created(target, await (await keystore()).createKeystore(target, password(ctx)));
    },
  },
  {
    name: "key import",
    usage: "key import <file>",
    summary: "create a keystore from a private key read on stdin",
    help: "Reads a private key (64 hex digits, 0x optional) from stdin and writes it to <file>, encrypted\nwith the password in SLUICE_KEYSTORE_PASSWORD. Never overwrites a file.\n\nExample: sluice key import node.json < key.txt",
    options: {},
    positionals: [1, 1],
    async run(ctx, [file]) {
      const target = ctx.resolvePath(file);
      const pass = password(ctx);
      const key = (await ctx.readStdin()).trim();
      if (key === "") throw new UsageError("no private key on stdin: e.g. `sluice key import node.json < key.txt`");
      return created(target, await (await keystore()).createKeystore(target, pass, key));
    },
  },
  {
    name: "key show",
    usage: "key show <file>",
    summary: "the address of a keystore (no password needed)",
    help: "Prints the address the keystore <file> holds; with SLUICE_KEYSTORE_PASSWORD set, also checks\nthat the password opens it.",
    options: {},
    positionals: [1, 1],
    async run(ctx, [file]) {
      const target = ctx.resolvePath(file);
      const { keystoreAddress, readKeystore } = await keystore();
      const address = keystoreAddress(target);
      const pass = ctx.env[PASSWORD_VARIABLE];
      if (pass !== undefined && pass !== "") await readKeystore(target, pass);
      const checked = pass !== undefined && pass !== "";
      return { json: { keystore: target, address, passwordChecked: checked }, text: checked ? `${address} (the password opens it)` : address };
    },
  },
];
