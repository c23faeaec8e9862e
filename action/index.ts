/** Entry point of the Action's bundle (action/dist/index.mjs). */
import { run } from "./main.js";

await run();
