import { expect } from "chai";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
const DOCS = ["README.md", ...readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => path.join("docs", f))];

/** Relative link targets of a Markdown text: `[text](target)`, without `#anchor`. */
function relativeLinks(markdown: string): string[] {
  const targets = [...markdown.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
  return targets.filter((t) => !/^[a-z]+:/i.test(t) && !t.startsWith("#")).map((t) => t.split("#")[0]);
}

describe("documentation links", () => {
  for (const doc of DOCS) {
    it(`${doc}: every relative link names a file of the repository`, () => {
      const dir = path.dirname(path.join(ROOT, doc));
      const text = readFileSync(path.join(ROOT, doc), "utf8");
      const outside = relativeLinks(text).filter((t) => !path.resolve(dir, t).startsWith(ROOT + path.sep));
      const missing = relativeLinks(text).filter((t) => !existsSync(path.resolve(dir, t)));
      expect(outside, "links that leave the repository").to.deep.equal([]);
      expect(missing, "links to files that don't exist").to.deep.equal([]);
    });
  }

  it("README.md links the protocol description", () => {
    expect(relativeLinks(readFileSync(path.join(ROOT, "README.md"), "utf8"))).to.include("docs/protocol.md");
  });
});
