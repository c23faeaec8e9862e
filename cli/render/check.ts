import type { CheckReport, EndpointCheck } from "../../engine/index.js";
import type { Style } from "./style.js";

/** Each endpoint's checks with ✓ / ✗, then one verdict line. */
export function renderCheck(report: CheckReport, style: Style): string {
  const lines = [
    ...renderEndpoint("Source", report.source, style),
    ...renderEndpoint("Destination", report.destination, style),
    "",
  ];
  const problems = countProblems(report.source) + countProblems(report.destination);
  lines.push(
    report.ok
      ? style.green(`${style.symbols.tick} Both connections work and have the privileges a run needs.`)
      : style.red(
          `${style.symbols.cross} ${problems} problem${problems === 1 ? "" : "s"}: fix ${problems === 1 ? "it" : "them"} and run \`pgferry check\` again.`,
        ),
  );
  return lines.join("\n");
}

export function renderEndpoint(title: string, check: EndpointCheck, style: Style): string[] {
  const { tick, cross } = style.symbols;
  const version = check.serverVersion ? style.dim(`  (PostgreSQL ${check.serverVersion})`) : "";
  const lines = [`${style.bold(title.padEnd(12))} ${check.endpoint}${version}`];
  if (check.error) {
    lines.push(`  ${style.red(cross)} connection: ${check.error.message}`);
    if (check.error.hint) lines.push(`    ${style.yellow("hint:")} ${check.error.hint}`);
    return lines;
  }
  lines.push(`  ${style.green(tick)} connection: connected`);
  for (const item of check.checks) {
    lines.push(`  ${item.ok ? style.green(tick) : style.red(cross)} ${item.name}: ${item.message}`);
  }
  return lines;
}

function countProblems(check: EndpointCheck): number {
  return check.error ? 1 : check.checks.filter((item) => !item.ok).length;
}
