// Hello world in Rust (std, wasm32-wasi).
fn main() {
    println!("Hello, world! (Rust on nanovisor)");
}
