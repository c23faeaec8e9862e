import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { FramedCopyIn, FramedCopyOut } from "./copy-relay.js";
import type { CopyFormat } from "./report.js";

export interface CopyProgress {
  rows: number;
  bytes: number;
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
  // One CopyData message per row; in binary format one more carries the trailer.
  const rowsOf = (messages: number) => (options.format === "binary" ? Math.max(0, messages - 1) : messages);
  let lastReport = 0;
  const out = source.query(
    new FramedCopyOut(`COPY (${options.selectSql}) TO STDOUT (${formatClause})`, (framer) => {
      const now = Date.now();
      if (options.onProgress && now - lastReport >= 200) {
        lastReport = now;
        options.onProgress({ rows: rowsOf(framer.messages), bytes: framer.payloadBytes });
      }
    }),
  );
  const into = destination.query(
    new FramedCopyIn(`${options.targetSql} FROM STDIN (${formatClause}${options.freeze ? ", FREEZE" : ""})`),
  );
  await pipeline(out, into);
  const rows = into.rowCount;
  const bytes = out.framer.payloadBytes;
  options.onProgress?.({ rows, bytes });
  return { rows, bytes };
}
