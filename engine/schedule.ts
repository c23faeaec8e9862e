import type { PlannedTable } from "./selection.js";

/**
 * Order of work: largest first, except that a delta comes after the tables its foreign keys reference (their new
 * rows must land first). Kahn's algorithm picking the largest ready table; a cycle is broken at its largest
 * table. Each delta then waits only for referenced tables placed before it, which some worker has already taken,
 * so waiting can never deadlock.
 */
export function schedule(planned: readonly PlannedTable[]): {
  order: PlannedTable[];
  waitFor: Map<string, string[]>;
} {
  const byName = new Map(planned.map((p) => [p.shape.table.ref.name, p]));
  const parentsOf = (p: PlannedTable): string[] =>
    p.action !== "delta"
      ? []
      : [
          ...new Set(
            p.shape.table.foreignKeys
              .map((fk) => fk.referencedTable)
              .filter((parent): parent is string => parent !== null && parent !== p.shape.table.ref.name)
              .filter((parent) => byName.get(parent)?.action === "delta"),
          ),
        ];
  const bySize = (a: PlannedTable, b: PlannedTable) =>
    b.shape.table.estimatedBytes - a.shape.table.estimatedBytes;
  const remaining = [...planned].sort(bySize);
  const placed = new Set<string>();
  const order: PlannedTable[] = [];
  const waitFor = new Map<string, string[]>();
  while (remaining.length > 0) {
    const readyIndex = remaining.findIndex((p) => parentsOf(p).every((parent) => placed.has(parent)));
    const [next] = remaining.splice(readyIndex === -1 ? 0 : readyIndex, 1);
    if (!next) break;
    const name = next.shape.table.ref.name;
    waitFor.set(
      name,
      parentsOf(next).filter((parent) => placed.has(parent)),
    );
    placed.add(name);
    order.push(next);
  }
  return { order, waitFor };
}
