/** A result set drawn the way psql draws it (aligned format), for the demo's "verify yourself" part. */
export function psqlTable(columns: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = columns.map((column, index) =>
    Math.max(column.length, ...rows.map((row) => (row[index] ?? "").length)),
  );
  const centre = (text: string, width: number) => {
    const left = Math.floor((width - text.length) / 2);
    return " ".repeat(left) + text + " ".repeat(width - text.length - left);
  };
  const numeric = columns.map((_, index) => rows.every((row) => /^-?[\d,.]+$/.test(row[index] ?? "")));
  const cell = (text: string, index: number) => {
    const width = widths[index] ?? 0;
    return numeric[index] ? text.padStart(width) : text.padEnd(width);
  };
  return [
    ` ${columns.map((column, index) => centre(column, widths[index] ?? 0)).join(" | ")}`.trimEnd(),
    widths.map((width) => "-".repeat(width + 2)).join("+"),
    ...rows.map((row) => ` ${row.map(cell).join(" | ")}`.trimEnd()),
    `(${rows.length} row${rows.length === 1 ? "" : "s"})`,
  ];
}
