import { SPEC_DEFAULTS, type ConnectionConfig, type MigrationSpec } from "../../engine/spec.js";

/** A normalised spec with the engine's defaults, for tests that call the engine directly. */
export function makeSpec(
  source: ConnectionConfig,
  destination: ConnectionConfig,
  overrides: Partial<MigrationSpec> = {},
): MigrationSpec {
  return {
    ...SPEC_DEFAULTS,
    exclude: [],
    source,
    destination,
    waitTimeoutSeconds: 5,
    ...overrides,
  };
}
