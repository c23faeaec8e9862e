import type { ProgressEvent } from "../../engine/index.js";
import type { Output } from "../io.js";
import { formatRows } from "../render/format.js";
import { failureText, finishedTableLine } from "../render/table-lines.js";
import { serverWaitLine } from "../render/server-wait.js";
import type { ProgressView } from "./view.js";

/**
 * Progress for logs: one line when the run starts, one per finished table
 * (`[3/9] orders: 5,000 rows copied (1.2 s)`). With `failuresOnly` (for `--quiet`), only failed tables, as errors.
 */
export class LineProgress implements ProgressView {
  tablesStarted = 0;
  private stopped = false;

  constructor(
    private readonly output: Output,
    private readonly options: { failuresOnly: boolean },
  ) {}

  onEvent(event: ProgressEvent): void {
    // After an interruption the tables in flight report their cancellation as a failure: that is not news.
    if (this.stopped) return;
    const style = this.output.errStyle;
    switch (event.type) {
      case "table-start":
        this.tablesStarted += 1;
        break;
      case "table-finish":
        if (this.options.failuresOnly) {
          if (event.result.status === "failed") {
            this.output.error(
              `${style.red("error:")} table ${event.table} failed: ${failureText(event.result)}`,
            );
          }
        } else {
          this.output.info(finishedTableLine(event.index, event.total, event.result, style));
        }
        break;
      case "server-wait":
        if (!this.options.failuresOnly) this.output.info(serverWaitLine(event, style.symbols.ellipsis));
        break;
      case "lock-wait":
        if (!this.options.failuresOnly) {
          this.output.info(
            `Waiting for another pgferry run on schema "${event.targetSchema}" to finish${style.symbols.ellipsis}`,
          );
        }
        break;
      case "run-start":
        if (!this.options.failuresOnly) {
          this.output.info(`${formatRows(event.tables.length, "table")} to process`);
        }
        break;
      default:
        break;
    }
  }

  stop(): void {
    this.stopped = true;
  }
}
