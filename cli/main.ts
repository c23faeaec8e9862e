#!/usr/bin/env node
/** The `pgferry` bin: everything happens in `main`; this file only turns its result into the exit code. */
import { main } from "./program.js";

const code = await main(process.argv);
// Exit explicitly once the output is flushed: a handle some library left open must not keep a finished command
// (or one that failed) alive.
await Promise.all(
  [process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write("", resolve))),
);
process.exit(code);
