// Small DOM and formatting helpers: elements are made with el(), never from HTML strings.

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const badge = (text, kind = text) => el("span", { class: `badge ${kind}` }, text);

/** A base-unit amount (decimal string or bigint) in the asset's units: "1,234.5 USDC". */
export function formatAmount(amount, info) {
  const value = BigInt(amount);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const scale = 10n ** BigInt(info.decimals);
  const whole = (abs / scale).toLocaleString("en-US");
  let fraction = (abs % scale).toString().padStart(info.decimals, "0").replace(/0+$/, "");
  if (fraction.length > 6) fraction = fraction.slice(0, 6) + "…";
  return `${negative ? "-" : ""}${whole}${fraction === "" ? "" : `.${fraction}`} ${info.symbol}`;
}

/** A human amount ("12.5") in base units, as a decimal string; throws a readable error. */
export function parseAmount(text, info) {
  const trimmed = String(text).trim().replace(/,/g, "");
  const match = /^(\d+)(?:\.(\d*))?$/.exec(trimmed);
  if (match === null) throw new Error(`"${text}" is not an amount: write a number such as 12.5`);
  const fraction = match[2] ?? "";
  if (fraction.length > info.decimals) throw new Error(`${info.symbol} has ${info.decimals} decimals: "${text}" has more`);
  const units = BigInt(match[1]) * 10n ** BigInt(info.decimals) + BigInt(fraction.padEnd(info.decimals, "0") || "0");
  if (units === 0n) throw new Error("the amount must be more than zero");
  return units.toString();
}

/** Wei (a decimal string or bigint) for people, to 3 significant digits: ETH from 0.000001 up, else gwei, else wei (an estimate: never used to compute). */
export function formatWei(wei) {
  const value = BigInt(wei);
  const [unit, decimals] = value >= 10n ** 12n ? ["ETH", 18] : value >= 10n ** 6n ? ["gwei", 9] : ["wei", 0];
  const shown = (Number(value) / 10 ** decimals).toLocaleString("en-US", { maximumSignificantDigits: 3 });
  return `${shown} ${unit}`;
}

export const short = (hex) => (hex.length > 14 ? `${hex.slice(0, 8)}…${hex.slice(-4)}` : hex);

export function formatTime(unixSeconds) {
  if (unixSeconds === undefined) return "";
  return new Date(Number(unixSeconds) * 1000).toLocaleString("en-GB", { dateStyle: "short", timeStyle: "medium" });
}

export function formatCountdown(seconds) {
  if (seconds <= 0) return "passed: the channel can be settled";
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h}h ${String(m).padStart(2, "0")}m ${String(s).padStart(2, "0")}s left`;
}

/** Offers `text` as a file download (CSV, JSON). */
export function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = el("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
