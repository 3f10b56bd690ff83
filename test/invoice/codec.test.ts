/**
 * The invoice codec: `sluice1…` strings and JSON round-trip every valid invoice exactly; a typo is
 * caught by the checksum, an altered field by the signature, a malformed one by a typed error
 * naming the field.
 */
import { expect } from "chai";
import { bech32 } from "bech32";
import fc from "fast-check";
import { verifyTypedData } from "ethers";
import { hashlockOf } from "../../src/crypto";
import {
  INVOICE_TYPES,
  InvalidInvoiceError,
  InvoiceChecksumError,
  InvoiceSignatureError,
  MAX_DESCRIPTION_BYTES,
  MAX_INVOICE_LENGTH,
  decodeInvoice,
  readInvoice,
  encodeInvoice,
  invoiceBytes,
  invoiceDigest,
  invoiceFromJson,
  invoiceToJson,
  makeInvoice,
  signInvoice,
  type Invoice,
  type SignedInvoice,
} from "../../src/invoice";
import { sluiceDomain } from "../../src/typedData";
import { invoiceTypedDataDigest } from "../../src/invoice/signature";
import type { Address, Hex } from "../../src/types";
import { devSigner, thrown } from "./fixtures";

const signer = devSigner(3);
const other = devSigner(4);
const ADJUDICATOR = "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Address;
const USDC = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512" as Address;
const MAX_UINT256 = (1n << 256n) - 1n;
const MAX_UINT64 = (1n << 64n) - 1n;

const hex = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b): Hex => `0x${Buffer.from(b).toString("hex")}`);
/** Text of at most MAX_DESCRIPTION_BYTES bytes of UTF-8, any code points (emoji, CJK, control characters). */
const description = fc
  .string({ unit: "grapheme", maxLength: MAX_DESCRIPTION_BYTES })
  .map((s) => {
    let out = s;
    while (Buffer.byteLength(out, "utf8") > MAX_DESCRIPTION_BYTES) out = [...out].slice(0, -1).join("");
    return out;
  });
const invoiceTerms: fc.Arbitrary<Invoice> = fc.record({
  chainId: fc.bigInt({ min: 1n, max: MAX_UINT256 }),
  adjudicator: hex(20),
  asset: hex(20),
  payee: fc.constant(signer.address.toLowerCase() as Address),
  amount: fc.oneof(fc.bigInt({ min: 1n, max: 1000n }), fc.bigInt({ min: 1n, max: MAX_UINT256 })),
  hashlock: hex(32),
  expiry: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: MAX_UINT64 })),
  ref: hex(32),
  description,
});

async function sample(overrides: Partial<Invoice> = {}): Promise<SignedInvoice> {
  const { invoice } = await makeInvoice(
    { chainId: 31337n, adjudicator: ADJUDICATOR, asset: USDC, amount: 125_000_000n, expiry: 1_900_000_000n, description: "order 42: 3 widgets", ...overrides },
    signer,
  );
  return invoice;
}

/** `text` with the character at `index` replaced by another of the bech32 alphabet. */
function typo(text: string, index: number, shift: number): string {
  const alphabet = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
  const i = alphabet.indexOf(text[index]);
  return text.slice(0, index) + alphabet[(i + shift) % alphabet.length] + text.slice(index + 1);
}

describe("invoice codec", function () {
  describe("#encodeInvoice / #decodeInvoice", function () {
    it("round-trips every valid invoice exactly (property), the string all lower case and within the limit", async function () {
      await fc.assert(
        fc.asyncProperty(invoiceTerms, async (terms) => {
          const signed = await signInvoice(terms, signer);
          const text = encodeInvoice(signed);
          expect(text.startsWith("sluice1")).to.equal(true);
          expect(text).to.equal(text.toLowerCase());
          expect(text.length).to.be.at.most(MAX_INVOICE_LENGTH);
          expect(decodeInvoice(text)).to.deep.equal(signed);
          // One string per invoice: decoding and encoding again gives the same text.
          expect(encodeInvoice(decodeInvoice(text))).to.equal(text);
        }),
        { numRuns: 200 },
      );
    });

    it("accepts the string in upper case (QR codes) and with surrounding white space", async function () {
      const signed = await sample();
      const text = encodeInvoice(signed);
      expect(decodeInvoice(text.toUpperCase())).to.deep.equal(signed);
      expect(decodeInvoice(`  ${text}\n`)).to.deep.equal(signed);
    });

    it("catches any one mistyped character with the checksum (property)", async function () {
      const text = encodeInvoice(await sample());
      const data = "sluice1".length;
      fc.assert(
        fc.property(fc.integer({ min: data, max: text.length - 1 }), fc.integer({ min: 1, max: 31 }), (index, shift) => {
          expect(thrown(() => decodeInvoice(typo(text, index, shift)))).to.be.instanceOf(InvoiceChecksumError);
        }),
        { numRuns: 300 },
      );
    });

    it("catches two swapped neighbours, a dropped and an added character", async function () {
      const text = encodeInvoice(await sample());
      const i = 40;
      expect(text[i]).to.not.equal(text[i + 1]);
      const swapped = text.slice(0, i) + text[i + 1] + text[i] + text.slice(i + 2);
      expect(thrown(() => decodeInvoice(swapped))).to.be.instanceOf(InvoiceChecksumError);
      expect(thrown(() => decodeInvoice(text.slice(0, i) + text.slice(i + 1)))).to.be.instanceOf(InvoiceChecksumError);
      expect(thrown(() => decodeInvoice(`${text.slice(0, i)}q${text.slice(i)}`))).to.be.instanceOf(InvoiceChecksumError);
    });

    it("refuses an altered amount with a valid checksum: the payee's signature no longer matches", async function () {
      const signed = await sample();
      const forged = encodeInvoice({ ...signed, amount: signed.amount * 10n });
      const error = thrown(() => decodeInvoice(forged));
      expect(error).to.be.instanceOf(InvoiceSignatureError);
      expect((error as InvoiceSignatureError).payee).to.equal(signed.payee);
    });

    it("refuses an invoice signed by a key other than its payee's", async function () {
      const signed = await sample();
      const { signature } = await signInvoice({ ...signed, payee: other.address.toLowerCase() as Address }, other);
      expect(thrown(() => decodeInvoice(encodeInvoice({ ...signed, signature })))).to.be.instanceOf(InvoiceSignatureError);
    });

    it("readInvoice (the hub's read) checks the checksum and fields but not the payee's signature", async function () {
      const signed = await sample();
      const forged = { ...signed, amount: signed.amount * 10n };
      expect(readInvoice(encodeInvoice(forged))).to.deep.equal(forged);
      expect(thrown(() => decodeInvoice(encodeInvoice(forged)))).to.be.instanceOf(InvoiceSignatureError);
      const text = encodeInvoice(signed);
      expect(thrown(() => readInvoice(typo(text, 40, 3)))).to.be.instanceOf(InvoiceChecksumError);
      expect(thrown(() => readInvoice(`x${text}`))).to.be.instanceOf(InvalidInvoiceError);
    });

    /** A valid-checksum string over `bytes`. */
    const wrap = (bytes: Buffer) => bech32.encode("sluice", bech32.toWords(bytes), MAX_INVOICE_LENGTH);

    const cases: [string, (bytes: Buffer, signed: SignedInvoice) => string, string][] = [
      ["another prefix", (b) => bech32.encode("lnbc", bech32.toWords(b), MAX_INVOICE_LENGTH), "prefix"],
      ["an unknown version", (b) => wrap(Buffer.concat([Buffer.of(2), b.subarray(1)])), "version"],
      ["a chain id with a leading zero byte", (b) => wrap(Buffer.concat([Buffer.of(1, 3, 0), b.subarray(2)])), "chainId"],
      ["a cut-short invoice", (b) => wrap(b.subarray(0, 100)), "hashlock"],
      ["bytes after the signature", (b) => wrap(Buffer.concat([b, Buffer.of(0)])), "signature"],
      ["a zero amount", (_, s) => wrap(invoiceBytes({ ...s, amount: 1n }).fill(0, 1 + 1 + 2 + 60 + 1, 1 + 1 + 2 + 60 + 2)), "amount"],
      ["a description that is not UTF-8", (_, s) => {
        const b = invoiceBytes({ ...s, description: "ab" });
        b[b.length - 65 - 2] = 0xff;
        return wrap(b);
      }, "description"],
      ["a mixed-case string", (b) => { const t = wrap(b); return t.slice(0, 20) + t.slice(20).toUpperCase(); }, "invoice"],
      ["a character outside the alphabet", (b) => { const t = wrap(b); return `${t.slice(0, 30)}b${t.slice(31)}`; }, "invoice"],
    ];
    for (const [what, make, field] of cases) {
      it(`refuses ${what}, naming the field ${field}`, async function () {
        const signed = await sample();
        const error = thrown(() => decodeInvoice(make(invoiceBytes(signed), signed)));
        expect(error).to.be.instanceOf(InvalidInvoiceError);
        expect(error).to.not.be.instanceOf(InvoiceChecksumError);
        expect((error as InvalidInvoiceError).field).to.equal(field);
        expect((error as InvalidInvoiceError).code).to.equal("INVALID_INVOICE");
      });
    }

    it("refuses to encode a description above the byte cap, counting UTF-8 bytes", async function () {
      const signed = await sample();
      const atCap = "é".repeat(MAX_DESCRIPTION_BYTES / 2);
      expect(decodeInvoice(encodeInvoice({ ...(await sample({ description: atCap })) })).description).to.equal(atCap);
      const error = thrown(() => encodeInvoice({ ...signed, description: `${atCap}x` }));
      expect((error as InvalidInvoiceError).field).to.equal("description");
    });
  });

  describe("#invoiceToJson / #invoiceFromJson", function () {
    it("round-trips every valid invoice, as an object and as JSON text (property)", async function () {
      await fc.assert(
        fc.asyncProperty(invoiceTerms, async (terms) => {
          const signed = await signInvoice(terms, signer);
          const json = invoiceToJson(signed);
          expect(Object.values(json).every((v) => typeof v === "string")).to.equal(true);
          expect(invoiceFromJson(json)).to.deep.equal(signed);
          expect(invoiceFromJson(JSON.stringify(json))).to.deep.equal(signed);
        }),
        { numRuns: 100 },
      );
    });

    it("lower-cases hex on decode and still verifies", async function () {
      const signed = await sample();
      const json = invoiceToJson(signed);
      expect(invoiceFromJson({ ...json, payee: json.payee.toUpperCase().replace("0X", "0x") })).to.deep.equal(signed);
    });

    const rows: [string, (json: Record<string, unknown>) => unknown, string][] = [
      ["an amount as a JSON number", (j) => ({ ...j, amount: 5 }), "amount"],
      ["a zero amount", (j) => ({ ...j, amount: "0" }), "amount"],
      ["a short hashlock", (j) => ({ ...j, hashlock: "0x1234" }), "hashlock"],
      ["a missing expiry", ({ expiry: _, ...j }) => j, "expiry"],
      ["an unknown field", (j) => ({ ...j, fee: "1" }), "fee"],
      ["a 64-byte signature", (j) => ({ ...j, signature: (j.signature as string).slice(0, -2) }), "signature"],
      ["a description of lone surrogates", (j) => ({ ...j, description: "\ud800" }), "description"],
      ["a description above the byte cap", (j) => ({ ...j, description: "€".repeat(100) }), "description"],
      ["not an object", () => [], "invoice"],
    ];
    for (const [what, change, field] of rows) {
      it(`refuses ${what}, naming the field ${field}`, async function () {
        const json = invoiceToJson(await sample()) as unknown as Record<string, unknown>;
        const error = thrown(() => invoiceFromJson(change(json)));
        expect(error).to.be.instanceOf(InvalidInvoiceError);
        expect((error as InvalidInvoiceError).field).to.equal(field);
      });
    }

    it("refuses JSON whose amount was raised: the signature check fails", async function () {
      const json = invoiceToJson(await sample());
      expect(thrown(() => invoiceFromJson({ ...json, amount: "125000001" }))).to.be.instanceOf(InvoiceSignatureError);
    });
  });

  describe("#makeInvoice / #invoiceDigest", function () {
    it("makes a fresh secret whose sha256 is the hashlock, a random ref unless given, the signer as payee", async function () {
      const a = await makeInvoice({ chainId: 1n, adjudicator: ADJUDICATOR, asset: USDC, amount: 1n, expiry: 10n }, signer);
      const b = await makeInvoice({ chainId: 1n, adjudicator: ADJUDICATOR, asset: USDC, amount: 1n, expiry: 10n }, signer);
      expect(hashlockOf(a.secret)).to.equal(a.invoice.hashlock);
      expect(a.secret).to.not.equal(b.secret);
      expect(a.invoice.ref).to.not.equal(b.invoice.ref);
      expect(a.invoice.payee).to.equal(signer.address.toLowerCase());
      const ref: Hex = `0x${"ab".repeat(32)}`;
      expect((await makeInvoice({ chainId: 1n, adjudicator: ADJUDICATOR, asset: USDC, amount: 1n, expiry: 10n, ref }, signer)).invoice.ref).to.equal(ref);
    });

    it("is EIP-712 typed data in the adjudicator's domain: ethers recovers the payee from the signature", async function () {
      const signed = await sample();
      const { chainId, adjudicator, signature, ...message } = signed;
      expect(verifyTypedData(sluiceDomain(chainId, adjudicator), INVOICE_TYPES, message, signature).toLowerCase()).to.equal(signed.payee);
      // The chain and the contract are part of what is signed.
      expect(invoiceDigest({ ...signed, chainId: 1n })).to.not.equal(invoiceDigest(signed));
      expect(invoiceDigest({ ...signed, adjudicator: USDC })).to.not.equal(invoiceDigest(signed));
    });

    it("the direct encoding gives ethers' typed-data digest: any amount, expiry, mixed-case address, Unicode description", async function () {
      const signed = await sample();
      const variants: Invoice[] = [
        signed,
        { ...signed, amount: (1n << 256n) - 1n, expiry: (1n << 64n) - 1n },
        { ...signed, asset: `0x${USDC.slice(2).toUpperCase()}`, description: "café ☕ — 𝄞 twice: 𝄞" },
        { ...signed, chainId: 31_337n, adjudicator: USDC, description: "" },
      ];
      for (const invoice of variants) expect(invoiceDigest(invoice)).to.equal(invoiceTypedDataDigest(invoice));
      expect(() => invoiceDigest({ ...signed, expiry: 1n << 64n })).to.throw(/expiry/);
      expect(() => invoiceDigest({ ...signed, payee: "0x1234" })).to.throw(/payee/);
    });

    it("refuses to sign with a key that is not the payee's", async function () {
      const signed = await sample();
      await signInvoice(signed, other).then(
        () => expect.fail("signed"),
        (error: unknown) => expect((error as Error).message).to.match(/can't sign it/),
      );
    });
  });
});
