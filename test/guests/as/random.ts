// AssemblyScript over raw WASI: random_get fills buffers that are not all zero and differ;
// the monotonic clock advances. Exits 1 naming the failed check.
import { random_get, clock_time_get, println, eprintln, exit } from "./lib/wasi";

function check(cond: bool, what: string): void {
  if (cond) {
    println("ok: " + what);
  } else {
    eprintln("FAIL random: " + what);
    exit(1);
  }
}

const a = new Uint8Array(32);
const b = new Uint8Array(32);
check(random_get(a.dataStart, 32) == 0, "random_get 32 bytes");
check(random_get(b.dataStart, 32) == 0, "random_get 32 more bytes");
let zero = true;
let same = true;
for (let i = 0; i < 32; i++) {
  if (a[i] != 0) zero = false;
  if (a[i] != b[i]) same = false;
}
check(!zero, "not all zero");
check(!same, "two draws differ");
const t = new Uint64Array(2);
check(clock_time_get(1, 0, t.dataStart) == 0, "monotonic clock");
check(clock_time_get(1, 0, t.dataStart + 8) == 0, "monotonic clock again");
check(t[1] >= t[0], "monotonic does not go back");
check(clock_time_get(99, 0, t.dataStart) == 28, "unknown clock is EINVAL");
println("PASS random");
