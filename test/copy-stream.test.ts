/** The COPY relay's framer: whatever the socket reads look like, only whole CopyData messages are passed on. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CopyDataFramer } from "../engine/copy-relay.js";

function message(code: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(5);
  header.write(code, 0, "latin1");
  header.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

/** Splits a buffer into whole protocol messages; fails on a partial one. */
function messagesOf(data: Buffer): { code: string; body: Buffer }[] {
  const messages: { code: string; body: Buffer }[] = [];
  for (let at = 0; at < data.length;) {
    assert.ok(data.length - at >= 5, "a whole header");
    const end = at + 1 + data.readUInt32BE(at + 1);
    assert.ok(end <= data.length, "a whole message");
    messages.push({ code: String.fromCharCode(data[at] ?? 0), body: data.subarray(at + 5, end) });
    at = end;
  }
  return messages;
}

/** Feeds `stream` to a framer in reads of the given sizes (cycled), until copy-out ends. */
function relay(stream: Buffer, sizes: number[]) {
  const framer = new CopyDataFramer();
  const frames: Buffer[] = [];
  let end: { rest: Buffer; error: boolean } | undefined;
  for (let at = 0, i = 0; at < stream.length && !end; i += 1) {
    const size = sizes[i % sizes.length] ?? 1;
    const output = framer.feed(stream.subarray(at, at + size));
    frames.push(...output.frames);
    end = output.end;
    at += size;
  }
  return { framer, frames, end };
}

const rows = Array.from({ length: 300 }, (_, i) => Buffer.from(`row ${i} `.repeat(1 + (i % 17))));
const hugeRow = Buffer.alloc(1.5 * 1024 * 1024 + 123, 7);
const afterCopy = Buffer.concat([message("C", Buffer.from("COPY 302\0")), message("Z", Buffer.from("T"))]);
const stream = Buffer.concat([
  message("H", Buffer.from([1, 0, 0])),
  ...rows.slice(0, 100).map((row) => message("d", row)),
  message("N", Buffer.from("SNOTICE\0\0")),
  message("d", hugeRow),
  ...rows.slice(100).map((row) => message("d", row)),
  message("S", Buffer.from("TimeZone\0UTC\0")),
  message("d", Buffer.from("trailer")),
  message("c"),
  afterCopy,
]);
const expectedData = Buffer.concat([
  ...rows.slice(0, 100),
  hugeRow,
  ...rows.slice(100),
  Buffer.from("trailer"),
]);

describe("CopyDataFramer", () => {
  for (const sizes of [[2, 1, 9], [3, 7, 2], [4096], [65536], [65536, 17, 100_000, 5], [stream.length]]) {
    test(`reads of ${sizes.join(", ")} bytes: whole CopyData messages out, the same data, the rest handed back`, () => {
      const { framer, frames, end } = relay(stream, sizes);
      const data: Buffer[] = [];
      for (const frame of frames) {
        for (const { code, body } of messagesOf(frame)) {
          assert.equal(code, "d");
          data.push(body);
        }
      }
      assert.ok(Buffer.concat(data).equals(expectedData), "the row data, unchanged and in order");
      assert.equal(framer.messages, 302);
      assert.equal(framer.payloadBytes, expectedData.length);
      assert.deepEqual(end?.error, false);
      assert.ok(
        end?.rest.equals(afterCopy.subarray(0, end.rest.length)),
        "what follows CopyDone goes back to pg",
      );
    });
  }

  test("a long row is passed on in pieces as it arrives, never held whole", () => {
    const framer = new CopyDataFramer();
    const long = message("d", hugeRow);
    let largest = 0;
    for (let at = 0; at < long.length; at += 65536) {
      for (const frame of framer.feed(long.subarray(at, at + 65536)).frames)
        largest = Math.max(largest, frame.length);
    }
    assert.ok(largest <= 65536 + 5, `largest frame ${largest} bytes`);
    assert.equal(framer.payloadBytes, hugeRow.length);
  });

  test("an ErrorResponse ends copy-out and is handed back whole, after the messages before it", () => {
    const error = message("E", Buffer.from("SERROR\0C57P01\0Mterminating connection\0\0"));
    const failing = Buffer.concat([message("H"), ...rows.slice(0, 5).map((row) => message("d", row)), error]);
    for (const sizes of [[1], [7], [failing.length]]) {
      const { frames, end } = relay(failing, sizes);
      assert.equal(end?.error, true);
      assert.ok(end?.rest.equals(error.subarray(0, end.rest.length)), "the error message goes back to pg");
      const data = frames.flatMap((frame) => messagesOf(frame).map((m) => m.body));
      assert.ok(Buffer.concat(data).equals(Buffer.concat(rows.slice(0, 5))));
    }
  });
});
