import type { ProgressEvent } from "../../engine/index.js";

/** `Cannot reach the destination app@db:5432/shop yet (connect ECONNREFUSED …); retrying for up to 60 s…` */
export function serverWaitLine(
  event: Extract<ProgressEvent, { type: "server-wait" }>,
  ellipsis: string,
): string {
  return `Cannot reach the ${event.side} ${event.endpoint} yet (${event.reason}); retrying for up to ${event.seconds} s${ellipsis}`;
}
