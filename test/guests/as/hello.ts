// AssemblyScript hello world over raw WASI preview1 fd_write.
import { println } from "./lib/wasi";

println("hello from AssemblyScript");
