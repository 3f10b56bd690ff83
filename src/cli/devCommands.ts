/**
 * `sluice dev mint <amount> --asset <token> [--to <address>]`: test dollars on a development chain
 * (chain id 31337) from the node running in the data directory, with its own key. Refused by the
 * node on any other chain (NOT_DEV_CHAIN) and for a token without `mint` (NOT_MINTABLE).
 */
import { txView } from "../node/api/wire";
import { formatAmount, parseAmount } from "./amount";
import { addressArg, type Command } from "./commands";
import { formatTx } from "./format";
import { UsageError } from "./errors";

export const DEV_COMMANDS: readonly Command[] = [
  {
    name: "dev mint",
    usage: "dev mint <amount> --asset <token> [--to <address>]",
    summary: "mint a test token on a development chain (chain id 31337), to this node by default",
    help: [
      "Calls the token's mint(address,uint256) with the node's key: the test dollar `npm run deploy -- --token`",
      "deploys has one. Development chains only (a `hardhat node` or anvil, chain id 31337); refused elsewhere.",
      "",
      "  --asset <token>   the token's address (required)",
      "  --to <address>    who gets the tokens (default: the node's own address)",
      "",
      "<amount> is a human amount in the token: \"1000 USDC\" or \"1000\".",
      "",
      "Example: sluice dev mint 1000 USDC --asset 0x5FbDB2315678afecb367f032d93F642f64180aa3",
    ].join("\n"),
    options: { asset: { type: "string" }, to: { type: "string" } },
    positionals: [1, 2],
    waits: true,
    run: async (ctx, positionals, values) => {
      if (typeof values.asset !== "string") throw new UsageError("`sluice dev mint` needs --asset <token>: the token's address (`npm run deploy -- --token` prints it)");
      const assetAddress = addressArg(values.asset, "--asset");
      const to = typeof values.to === "string" ? addressArg(values.to, "--to") : undefined;
      const client = await ctx.client();
      const asset = await client.asset(assetAddress);
      const amount = parseAmount(positionals.join(" "), asset);
      const recipient = to ?? (await client.info()).address;
      const done = ctx.progress(`waiting for the mint of ${formatAmount(amount, asset)} to be confirmed…`);
      try {
        const tx = await client.mint(assetAddress, amount, to);
        return { json: { ...(txView.encode(tx) as object), to: recipient, amount: amount.toString() }, text: `minted ${formatAmount(amount, asset)} to ${recipient}: ${formatTx(tx)}` };
      } finally {
        done();
      }
    },
  },
];
