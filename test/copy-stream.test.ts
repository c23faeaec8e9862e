import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RowCounter } from "../engine/copy-stream.js";

/** A binary COPY stream as PostgreSQL writes it: signature, flags, extension length, tuples, trailer. */
function binaryCopy(rows: (Buffer | null)[][], extension = Buffer.alloc(0)): Buffer {
  const header = Buffer.concat([
    Buffer.from("PGCOPY\n\xff\r\n\0", "latin1"),
    Buffer.alloc(4),
    Buffer.alloc(4),
  ]);
  header.writeUInt32BE(extension.length, 15);
  const parts: Buffer[] = [header, extension];
  for (const row of rows) {
    const count = Buffer.alloc(2);
    count.writeInt16BE(row.length);
    parts.push(count);
    for (const field of row) {
      const length = Buffer.alloc(4);
      length.writeInt32BE(field === null ? -1 : field.length);
      parts.push(length, ...(field ? [field] : []));
    }
  }
  const trailer = Buffer.alloc(2);
  trailer.writeInt16BE(-1);
  return Buffer.concat([...parts, trailer]);
}

function count(format: "binary" | "text", data: Buffer, chunkSize: number): number {
  const counter = new RowCounter(format);
  for (let offset = 0; offset < data.length; offset += chunkSize) {
    counter.write(data.subarray(offset, offset + chunkSize));
  }
  return counter.rows;
}

describe("RowCounter", () => {
  const rows = Array.from({ length: 57 }, (_, i) => [
    Buffer.from(`value ${i}`),
    null,
    Buffer.alloc(i * 3, 0xff),
    Buffer.from([0, 1, 0, 0xff]),
  ]);

  test("counts binary tuples whatever the chunk boundaries, header extension included", () => {
    const data = binaryCopy(rows, Buffer.from("ext!"));
    for (const size of [1, 2, 3, 5, 7, 64, 1000, data.length])
      assert.equal(count("binary", data, size), 57, `chunk ${size}`);
    assert.equal(count("binary", binaryCopy([]), 3), 0);
  });

  test("counts text rows by their unescaped newlines", () => {
    const text = Buffer.from("1\ta\\nb\n2\t\\N\n3\t\\\\\n");
    for (const size of [1, 4, text.length]) assert.equal(count("text", text, size), 3);
  });
});
