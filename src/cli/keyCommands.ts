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

/** A `key <verb> <file>` command; `run` gets the file's absolute path. */
function keyCommand(verb: string, summary: string, help: string, run: (ctx: Context, file: string) => Promise<Output>): Command {
  return { name: `key ${verb}`, usage: `key ${verb} <file>`, summary, help, options: {}, positionals: [1, 1], run: (ctx, [file]) => run(ctx, ctx.resolvePath(file)) };
}

export const KEY_COMMANDS: readonly Command[] = [
  keyCommand(
    "new",
    "create a keystore with a fresh key (password from SLUICE_KEYSTORE_PASSWORD)",
    "Generates a new private key and writes it to <file>, encrypted with the password in\nSLUICE_KEYSTORE_PASSWORD (at least 8 characters). Never overwrites a file. Prints the address.",
    async (ctx, file) => created(file, await (await keystore()).createKeystore(file, password(ctx))),
  ),
  keyCommand(
    "import",
    "create a keystore from a private key read on stdin",
    "Reads a private key (64 hex digits, 0x optional) from stdin and writes it to <file>, encrypted\nwith the password in SLUICE_KEYSTORE_PASSWORD. Never overwrites a file.\n\nExample: sluice key import node.json < key.txt",
    async (ctx, file) => {
      const pass = password(ctx);
      const key = (await ctx.readStdin()).trim();
      if (key === "") throw new UsageError("no private key on stdin: e.g. `sluice key import node.json < key.txt`");
      return created(file, await (await keystore()).createKeystore(file, pass, key));
    },
  ),
  keyCommand(
    "show",
    "the address of a keystore (no password needed)",
    "Prints the address the keystore <file> holds; with SLUICE_KEYSTORE_PASSWORD set, also checks\nthat the password opens it.",
    async (ctx, file) => {
      const { keystoreAddress, readKeystore } = await keystore();
      const address = keystoreAddress(file);
      const pass = ctx.env[PASSWORD_VARIABLE];
      const checked = pass !== undefined && pass !== "";
      if (checked) await readKeystore(file, pass);
      return { json: { keystore: file, address, passwordChecked: checked }, text: checked ? `${address} (the password opens it)` : address };
    },
  ),
];
