// A Rust panic on wasm32-wasi aborts: the message goes to stderr and the guest traps
// (`unreachable`). The host must report outcome 'trap', not crash.
fn main() {
    println!("about to panic");
    let v: Vec<u32> = Vec::new();
    let i = std::env::args().count() + 10;
    println!("{}", v[i]);
}
