import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import type { CopyFormat } from "./report.js";

export interface CopyProgress {
  rows: number;
  bytes: number;
}

/**
 * Counts rows as COPY data passes through, without parsing values. Text format: one unescaped newline per row
 * (newlines inside values are escaped as `\n`). Binary format: a 19-byte header, then per tuple an int16 field
 * count and per field an int32 length (-1 for NULL) followed by that many bytes; the trailer is a count of -1.
 */
export class RowCounter extends Transform {
  rows = 0;
  bytes = 0;
  private readonly binary: boolean;
  private headerLeft = 19;
  /** Bytes still to skip inside a field value. */
  private skip = 0;
  private fieldsLeft = 0;
  private readonly pending: number[] = [];
  private needed: 2 | 4 = 2;

  constructor(
    format: CopyFormat,
    private readonly onChunk: (counter: RowCounter) => void = () => undefined,
  ) {
    super();
    this.binary = format === "binary";
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.binary) this.scanBinary(chunk);
    else this.scanText(chunk);
    this.onChunk(this);
    callback(null, chunk);
  }

  private scanText(chunk: Buffer): void {
    let index = chunk.indexOf(10);
    while (index !== -1) {
      this.rows += 1;
      index = chunk.indexOf(10, index + 1);
    }
  }

  private scanBinary(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.headerLeft > 0) {
        const take = Math.min(this.headerLeft, chunk.length - offset);
        // The header ends with a 4-byte extension-area length; collect it to skip the extension.
        for (let i = 0; i < take; i++) {
          if (19 - this.headerLeft + i >= 15) this.pending.push(chunk[offset + i] ?? 0);
        }
        this.headerLeft -= take;
        offset += take;
        if (this.headerLeft === 0) {
          this.skip = Buffer.from(this.pending).readUInt32BE(0);
          this.pending.length = 0;
        }
        continue;
      }
      if (this.skip > 0) {
        const take = Math.min(this.skip, chunk.length - offset);
        this.skip -= take;
        offset += take;
        continue;
      }
      let value: number;
      if (this.pending.length === 0 && offset + this.needed <= chunk.length) {
        value = this.needed === 2 ? chunk.readInt16BE(offset) : chunk.readInt32BE(offset);
        offset += this.needed;
      } else {
        // A count or length split across two chunks.
        this.pending.push(chunk[offset] ?? 0);
        offset += 1;
        if (this.pending.length < this.needed) continue;
        const bytes = Buffer.from(this.pending);
        this.pending.length = 0;
        value = this.needed === 2 ? bytes.readInt16BE(0) : bytes.readInt32BE(0);
      }
      if (this.needed === 2) {
        if (value === -1) continue;
        this.rows += 1;
        this.fieldsLeft = value;
        if (value > 0) this.needed = 4;
      } else {
        this.skip = value > 0 ? value : 0;
        this.fieldsLeft -= 1;
        if (this.fieldsLeft === 0) this.needed = 2;
      }
    }
  }
}

export interface StreamCopyOptions {
  /** `COPY (<select>) TO STDOUT` on the source. */
  selectSql: string;
  /** `COPY <target> (<columns>) FROM STDIN` on the destination, without the WITH clause. */
  targetSql: string;
  format: CopyFormat;
  /** COPY FREEZE: allowed when the table was created or truncated in the current transaction. */
  freeze: boolean;
  onProgress?: (progress: CopyProgress) => void;
}

/** Streams one COPY from the source client into the destination client; memory stays flat. */
export async function streamCopy(
  source: pg.Client,
  destination: pg.Client,
  options: StreamCopyOptions,
): Promise<CopyProgress> {
  const formatClause = options.format === "binary" ? "FORMAT binary" : "FORMAT text";
  const out = source.query(copyTo(`COPY (${options.selectSql}) TO STDOUT (${formatClause})`));
  const into = destination.query(
    copyFrom(`${options.targetSql} FROM STDIN (${formatClause}${options.freeze ? ", FREEZE" : ""})`),
  );
  let lastReport = 0;
  const counter = new RowCounter(options.format, ({ rows, bytes }) => {
    const now = Date.now();
    if (options.onProgress && now - lastReport >= 200) {
      lastReport = now;
      options.onProgress({ rows, bytes });
    }
  });
  await pipeline(out, counter, into);
  const rows = into.rowCount ?? counter.rows;
  options.onProgress?.({ rows, bytes: counter.bytes });
  return { rows, bytes: counter.bytes };
}
