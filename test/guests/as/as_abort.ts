// An AssemblyScript assertion failure goes through our `abort` (lib/wasi.ts): a message on
// stderr naming the file and line, then proc_exit(134).
import { args, println } from "./lib/wasi";

println("before the assertion");
const n = args().length;
assert(n == 99, "argc must be 99");
println("unreachable");
