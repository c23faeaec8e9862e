/**
 * The questions `pgferry init` asks, as an interface: the flow reads as a conversation, and the terminal
 * implementation (`@inquirer/prompts`) stays in one place.
 */
import { checkbox, confirm, input, password, select } from "@inquirer/prompts";

export interface Choice<T> {
  name: string;
  value: T;
  description?: string;
  /** How the choice is shown once picked (default: its name). */
  short?: string;
  /** A reason shown instead of letting the choice be picked. */
  disabled?: string;
  checked?: boolean;
}

export interface Prompter {
  select<T>(question: { message: string; choices: Choice<T>[]; default?: T }): Promise<T>;
  input(question: {
    message: string;
    default?: string;
    validate?: (value: string) => true | string;
    /** How the typed text is shown (e.g. a URL with its password masked). */
    display?: (value: string) => string;
  }): Promise<string>;
  password(question: { message: string }): Promise<string>;
  confirm(question: { message: string; default: boolean }): Promise<boolean>;
  checkbox<T>(question: {
    message: string;
    choices: Choice<T>[];
    validate?: (selected: T[]) => true | string;
  }): Promise<T[]>;
}

/** Prompts on a terminal: answers read from `input`, questions drawn on `output` (stderr: stdout stays clean). */
export function terminalPrompter(
  streams: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream } = {
    input: process.stdin,
    output: process.stderr,
  },
): Prompter {
  const context = { input: streams.input, output: streams.output };
  return {
    select: ({ message, choices, default: initial }) =>
      select(
        {
          message,
          choices: choices.map((choice) => ({
            name: choice.name,
            value: choice.value,
            ...(choice.description !== undefined ? { description: choice.description } : {}),
            ...(choice.short !== undefined ? { short: choice.short } : {}),
            ...(choice.disabled !== undefined ? { disabled: choice.disabled } : {}),
          })),
          ...(initial !== undefined ? { default: initial } : {}),
          pageSize: 12,
        },
        context,
      ),
    input: ({ message, default: initial, validate, display }) =>
      input(
        {
          message,
          ...(initial !== undefined ? { default: initial } : {}),
          ...(validate ? { validate } : {}),
          ...(display ? { transformer: (value: string) => display(value) } : {}),
        },
        context,
      ),
    password: ({ message }) => password({ message, mask: "*" }, context),
    confirm: ({ message, default: initial }) => confirm({ message, default: initial }, context),
    checkbox: ({ message, choices, validate }) =>
      checkbox(
        {
          message,
          choices: choices.map((choice) => ({
            name: choice.name,
            value: choice.value,
            checked: choice.checked ?? false,
            ...(choice.short !== undefined ? { short: choice.short } : {}),
            ...(choice.disabled !== undefined ? { disabled: choice.disabled } : {}),
          })),
          pageSize: 15,
          ...(validate ? { validate: (selected) => validate(selected.map((choice) => choice.value)) } : {}),
        },
        context,
      ),
  };
}

/** Whether an error is the prompt library's "the user pressed Ctrl-C" (or closed the terminal). */
export function isPromptAborted(error: unknown): boolean {
  return error instanceof Error && (error.name === "ExitPromptError" || error.name === "AbortPromptError");
}
