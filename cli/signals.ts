/**
 * Ctrl-C and `kill` while a command works: the first SIGINT / SIGTERM aborts the work through an AbortSignal
 * (the engine cancels the statements in flight and rolls their tables back); a second one exits at once.
 */
export const EXIT_CODE_OF_SIGNAL = { SIGINT: 130, SIGTERM: 143 } as const;
export type InterruptSignal = keyof typeof EXIT_CODE_OF_SIGNAL;

export class Interruption {
  private readonly controller = new AbortController();
  private receivedSignal: InterruptSignal | undefined;
  private readonly listeners: [InterruptSignal, () => void][] = [];

  /**
   * @param onFirst called once, when the first signal arrives (e.g. to stop a live progress view)
   * @param onRepeat called for every further signal; default: exit at once with the signal's code
   */
  constructor(
    onFirst: (signal: InterruptSignal) => void = () => undefined,
    onRepeat: (signal: InterruptSignal) => void = (signal) => process.exit(EXIT_CODE_OF_SIGNAL[signal]),
  ) {
    for (const signal of Object.keys(EXIT_CODE_OF_SIGNAL) as InterruptSignal[]) {
      const listener = () => {
        if (this.receivedSignal !== undefined) {
          onRepeat(signal);
          return;
        }
        this.receivedSignal = signal;
        onFirst(signal);
        this.controller.abort(new Error(`received ${signal}`));
      };
      process.on(signal, listener);
      this.listeners.push([signal, listener]);
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get received(): InterruptSignal | undefined {
    return this.receivedSignal;
  }

  get exitCode(): number {
    return this.receivedSignal ? EXIT_CODE_OF_SIGNAL[this.receivedSignal] : 0;
  }

  dispose(): void {
    for (const [signal, listener] of this.listeners) process.off(signal, listener);
    this.listeners.length = 0;
  }
}
