// Hello world in AssemblyScript, through the small WASI binding next to it (wasi.ts).
import { println } from "./wasi";

println("Hello, world! (AssemblyScript on nanovisor)");
