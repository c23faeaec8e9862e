/**
 * `node pulumi-cli.mjs <request JSON> <result file>`: one Pulumi command (up, preview, refresh, destroy) of the
 * test engine, in a process of its own as the Pulumi CLI would be. It runs under plain Node, never under tsx:
 * the provider text Pulumi serializes must come from the installed package exactly as a user's program loads it
 * (tsx rewrites dynamic imports, even inside node_modules). `pulumi-workspace.ts` bundles it.
 */
import { writeFile } from "node:fs/promises";
import { runCommand, type CommandRequest } from "./pulumi-engine.js";

const [request, resultFile] = process.argv.slice(2);
if (request === undefined || resultFile === undefined) {
  throw new Error("usage: pulumi-cli.mjs <request JSON> <result file>");
}
const result = await runCommand(JSON.parse(request) as CommandRequest);
await writeFile(resultFile, JSON.stringify(result, null, 2));
// gRPC channels may keep the loop alive after the host is gone.
process.exit(0);
