import { visibleWidth } from "./style.js";

export interface Column {
  header: string;
  align?: "left" | "right";
}

/**
 * A plain text table: a header, a rule, one line per row, columns padded to their widest cell (ANSI colours
 * do not count). Trailing spaces are trimmed.
 */
export function textTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  options: { indent?: string; rule?: string } = {},
): string[] {
  const indent = options.indent ?? "";
  const widths = columns.map((column, index) =>
    Math.max(visibleWidth(column.header), ...rows.map((row) => visibleWidth(row[index] ?? ""))),
  );
  const line = (cells: readonly string[]) =>
    indent +
    columns
      .map((column, index) => pad(cells[index] ?? "", widths[index] ?? 0, column.align ?? "left"))
      .join("  ")
      .trimEnd();
  const rule = options.rule ?? "-";
  return [
    line(columns.map((column) => column.header)),
    line(widths.map((width) => rule.repeat(width))),
    ...rows.map(line),
  ];
}

function pad(text: string, width: number, align: "left" | "right"): string {
  const fill = " ".repeat(Math.max(0, width - visibleWidth(text)));
  return align === "right" ? fill + text : text + fill;
}
