import type { TableResult } from "../../engine/index.js";
import { formatDuration, formatRows } from "./format.js";
import type { Style } from "./style.js";

/**
 * The line one finished table gets, in the plain progress output and above the live view:
 * `[3/9] orders: 5,000 rows copied (1.2 s)`.
 */
export function finishedTableLine(index: number, total: number, result: TableResult, style: Style): string {
  return `${style.dim(`[${index}/${total}]`)} ${result.name}: ${outcomeText(result, style)}`;
}

export function outcomeText(result: TableResult, style: Style): string {
  const duration = formatDuration(result.durationMs);
  switch (result.status) {
    case "ok":
      if (result.action === "delta") {
        return `${formatRows(result.rowsCopied, "new row")} copied (${result.path ?? "delta"}, ${duration})`;
      }
      return `${formatRows(result.rowsCopied)} copied (${duration})`;
    case "up-to-date":
      return `up to date (${result.path ? `${result.path}, ` : ""}${duration})`;
    case "skipped":
      return style.yellow(`skipped: ${result.reason ?? "skipped"}`);
    case "failed":
      return style.red(`FAILED: ${failureText(result)}`);
  }
}

/** `relation "x" does not exist [42P01]`: the first line of the error and its code. */
export function failureText(result: TableResult): string {
  const error = result.error;
  if (!error) return "unknown error";
  const message = (error.message.split("\n")[0] ?? "").replace(/\.$/, "");
  return `${message} [${error.code}]`;
}
