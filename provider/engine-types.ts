/**
 * The engine's types that the provider's public declarations use. The package build replaces this module's
 * declarations by a self-contained copy of `engine/spec.ts` and `engine/report.ts` (pure types), so that the
 * provider's declarations, CommonJS like its code, never import the ES-module engine: a program type-checks under
 * every module resolution (`node`, `node16`, `nodenext`, `bundler`).
 */
export type { LockBehaviour, Mode, SslMode, Strategy } from "../engine/spec.js";
export type { RunReport, RunTotals, TableResult } from "../engine/report.js";
