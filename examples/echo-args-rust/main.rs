// Prints its arguments one per line, then the environment variables it was given, sorted
// (the same output as echo-args-c).
fn main() {
    println!("args:");
    for a in std::env::args() {
        println!("{}", a);
    }
    let mut vars: Vec<String> = std::env::vars().map(|(k, v)| format!("{}={}", k, v)).collect();
    vars.sort();
    println!("env:");
    for v in vars {
        println!("{}", v);
    }
}
