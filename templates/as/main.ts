// __NAME__: a command for nanovisor, in AssemblyScript, through the small WASI binding beside
// it (wasi.ts: output, exit; extend it with the preview1 functions you need).
import { println } from "./wasi";

println("Hello from __NAME__!");
