import type { RunReport, TableAction, TableResult } from "./report.js";

/** Progress as data: the engine emits these and never prints; shells decide how to show them. */
export type ProgressEvent =
  | { type: "connected"; source: string; destination: string }
  | { type: "lock-wait"; targetSchema: string }
  /** A server refused the first connection (not up yet, restarting): retried for up to `seconds`. */
  | { type: "server-wait"; side: "source" | "destination"; endpoint: string; reason: string; seconds: number }
  | { type: "run-start"; tables: PlannedTableInfo[] }
  | { type: "table-start"; table: string; index: number; total: number; action: TableAction }
  | { type: "table-phase"; table: string; phase: TablePhase }
  | { type: "table-progress"; table: string; rows: number; bytes: number }
  | { type: "table-finish"; table: string; index: number; total: number; result: TableResult }
  | { type: "run-finish"; report: RunReport };

export type TablePhase = "prepare" | "create" | "copy" | "index" | "constraints" | "sequences" | "commit";

export interface PlannedTableInfo {
  name: string;
  action: TableAction;
  /** Planner's estimate from `pg_class.reltuples` (exact counts would cost a scan). */
  estimatedRows: number;
  estimatedBytes: number;
}

export type ProgressListener = (event: ProgressEvent) => void;
