// std::env: prints argv one per line, then the environment sorted, as "args:" / "env:" blocks;
// the host test compares the whole output. Exits 2 if NV_EXIT is set to "2".
fn main() {
    println!("args:");
    for a in std::env::args() {
        println!("{}", a);
    }
    let mut vars: Vec<(String, String)> = std::env::vars().collect();
    vars.sort();
    println!("env:");
    for (k, v) in &vars {
        println!("{}={}", k, v);
    }
    if std::env::var("NV_EXIT").as_deref() == Ok("2") {
        std::process::exit(2);
    }
}
