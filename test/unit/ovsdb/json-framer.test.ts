import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { FramingError } from "../../../src/ovsdb/wire/errors.ts";
import { JsonFramer } from "../../../src/ovsdb/wire/json-framer.ts";

/** Feeds `bytes` split at the given cut points; returns every value produced. */
function feed(framer: JsonFramer, bytes: Buffer, cuts: number[]): unknown[] {
  const out: unknown[] = [];
  let prev = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    out.push(...framer.push(bytes.subarray(prev, c)));
    prev = c;
  }
  out.push(...framer.push(bytes.subarray(prev)));
  return out;
}

const tricky = [
  { method: "update3", params: ["m", "00000000-0000-0000-0000-000000000000", { T: {} }], id: null },
  { s: 'braces {}[] and quotes " and backslash \\ and \\" escaped', n: [1, -2.5e10, true, null] },
  ["é€𝄞 multibyte: ünïcödé ✓", { clé: "välue", "": "" }],
  { deep: [[[[{ a: [{}, []] }]]]] },
  { trailing_backslash: "\\\\", quote_then_backslash: '"\\', unicode_escape: "\u0000\u001f\u2028" },
];

describe("JsonFramer", () => {
  it("splits back-to-back values with whitespace between them", () => {
    const f = new JsonFramer();
    const text = `${JSON.stringify(tricky[0])}  \n\t${JSON.stringify(tricky[1])}\r\n${JSON.stringify(tricky[2])}`;
    assert.deepEqual(f.push(Buffer.from(text)), tricky.slice(0, 3));
    assert.equal(f.buffered, 0);
  });

  it("yields the same values when the stream is split at every single byte boundary", () => {
    const bytes = Buffer.from(tricky.map((v) => JSON.stringify(v)).join(" "));
    for (let cut = 0; cut <= bytes.length; cut++) {
      const f = new JsonFramer();
      assert.deepEqual(feed(f, bytes, [cut]), tricky, `cut at ${cut}`);
      assert.equal(f.buffered, 0);
    }
  });

  it("yields the same values when fed one byte at a time (multibyte UTF-8 split mid-character)", () => {
    const bytes = Buffer.from(tricky.map((v) => JSON.stringify(v)).join(""));
    const f = new JsonFramer();
    const out: unknown[] = [];
    for (let i = 0; i < bytes.length; i++) out.push(...f.push(bytes.subarray(i, i + 1)));
    assert.deepEqual(out, tricky);
  });

  it("handles an escape whose backslash ends a chunk", () => {
    const f = new JsonFramer();
    assert.deepEqual(f.push(Buffer.from('{"a":"x\\')), []);
    assert.deepEqual(f.push(Buffer.from('"}"}')), [{ a: 'x"}' }]);
    // An even run of backslashes at the end of a chunk does not escape the next quote.
    assert.deepEqual(f.push(Buffer.from('["\\\\')), []);
    assert.deepEqual(f.push(Buffer.from('"]')), [["\\"]]);
  });

  it("handles long strings dense with escapes, whole and in small chunks", () => {
    const value = { match: 'inport == "lsp1" && \\'.repeat(5000), n: ['\\"', "\n\t"] };
    const bytes = Buffer.from(JSON.stringify(value) + JSON.stringify([value]));
    assert.deepEqual(new JsonFramer().push(bytes), [value, [value]]);
    const f = new JsonFramer();
    const cuts = Array.from({ length: Math.floor(bytes.length / 7) }, (_, k) => (k + 1) * 7);
    assert.deepEqual(feed(f, bytes, cuts), [value, [value]]);
  });

  it("reports how many bytes of an incomplete message it holds", () => {
    const f = new JsonFramer();
    assert.deepEqual(f.push(Buffer.from('  {"a": [1, ')), []);
    assert.equal(f.buffered, 10);
    assert.deepEqual(f.push(Buffer.from("2]} {")), [{ a: [1, 2] }]);
    assert.equal(f.buffered, 1);
    f.reset();
    assert.equal(f.buffered, 0);
    assert.deepEqual(f.push(Buffer.from("[3]")), [[3]]);
  });

  it("rejects a top-level byte that cannot start an object or array", () => {
    for (const garbage of ["x", "1", '"str"', "}", "null"]) {
      const f = new JsonFramer();
      assert.throws(
        () => f.push(Buffer.from(`{} ${garbage}`)),
        (e: unknown) =>
          e instanceof FramingError && e.code === "OVSDB_FRAMING" && /between messages/.test(e.message),
      );
    }
  });

  it("rejects invalid JSON inside a complete value, with an excerpt", () => {
    const f = new JsonFramer();
    assert.throws(
      () => f.push(Buffer.from('{"a": 1,, "b": 2}')),
      (e: unknown) => e instanceof FramingError && e.message.includes('{\\"a\\": 1,,'),
    );
    // Brackets balance but mismatch: only JSON.parse can tell.
    f.reset();
    assert.throws(() => f.push(Buffer.from("{]")), FramingError);
  });

  it("rejects a message over maxMessageBytes, complete or still streaming", () => {
    const f = new JsonFramer({ maxMessageBytes: 16 });
    assert.deepEqual(f.push(Buffer.from('{"a":"0123456"}')), [{ a: "0123456" }]); // 15 bytes
    assert.throws(() => f.push(Buffer.from('{"a":"012345678"}')), /exceeds maxMessageBytes/);
    f.reset();
    assert.deepEqual(f.push(Buffer.from('{"a":"01')), []);
    assert.throws(
      () => f.push(Buffer.from("234567890")),
      (e: unknown) => e instanceof FramingError,
    );
    f.reset();
    assert.deepEqual(f.push(Buffer.from("[1]")), [[1]]);
  });

  it("is usable again after reset() following an error", () => {
    const f = new JsonFramer();
    assert.throws(() => f.push(Buffer.from("{]")));
    f.reset();
    assert.deepEqual(f.push(Buffer.from('{"ok":true}')), [{ ok: true }]);
  });

  it("property: random objects/arrays, concatenated and split anywhere, come back identical", () => {
    const topLevel = fc.oneof(
      fc.dictionary(fc.string({ unit: "binary" }), fc.jsonValue()),
      fc.array(fc.jsonValue()),
    );
    fc.assert(
      fc.property(
        fc.array(topLevel, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.constantFrom("", " ", "\n", "\r\n\t "),
        (values, rawCuts, sep) => {
          const expected = values.map((v) => JSON.parse(JSON.stringify(v)));
          const bytes = Buffer.from(values.map((v) => JSON.stringify(v)).join(sep));
          const cuts = rawCuts.map((c) => c % (bytes.length + 1));
          const f = new JsonFramer();
          assert.deepEqual(feed(f, bytes, cuts), expected);
          assert.equal(f.buffered, 0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
