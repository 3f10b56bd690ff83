/**
 * A read's arguments as query parameters: the same fields as its JSON body (src/schema/api.ts
 * checks them), written as text. `limit` is a number, `types` a comma-separated list; every other
 * value is the JSON string itself (amounts, ids and hex as they are in JSON).
 */
import { WireFormatError, type Json } from "./wire";

const NUMBER_KEYS: ReadonlySet<string> = new Set(["limit"]);
const LIST_KEYS: ReadonlySet<string> = new Set(["types"]);

/** The JSON body a query string stands for; a key given twice is refused. */
export function bodyOfQuery(params: URLSearchParams): { [key: string]: Json } {
  const body: { [key: string]: Json } = {};
  for (const [key, value] of params) {
    if (Object.prototype.hasOwnProperty.call(body, key)) throw new WireFormatError(key, "given twice in the query");
    if (NUMBER_KEYS.has(key)) body[key] = /^-?[0-9]{1,15}$/.test(value) ? Number(value) : value;
    else if (LIST_KEYS.has(key)) body[key] = value === "" ? [] : value.split(",");
    else body[key] = value;
  }
  return body;
}

const asText = (value: Json): string => (typeof value === "string" ? value : JSON.stringify(value));

/** The query string of a read's JSON body (`?a=1&b=x`, or "" when empty). */
export function queryOfBody(body: Json): string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(body)) {
    if (value === null) continue;
    params.set(key, Array.isArray(value) ? value.map(asText).join(",") : asText(value));
  }
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}
