// AssemblyScript over raw WASI: prints argv one per line, then the environment sorted, in the
// same "args:" / "env:" format as rust/env_args, so the host test compares them alike.
import { args, environ, println } from "./lib/wasi";

println("args:");
const a = args();
for (let i = 0; i < a.length; i++) println(a[i]);
const e = environ();
e.sort((x: string, y: string): i32 => (x < y ? -1 : x > y ? 1 : 0));
println("env:");
for (let i = 0; i < e.length; i++) println(e[i]);
