// __NAME__: a command for nanovisor, in Rust (std, target wasm32-wasi).
fn main() {
    println!("Hello from __NAME__!");
    for (i, arg) in std::env::args().enumerate().skip(1) {
        println!("arg {}: {}", i, arg);
    }
}
