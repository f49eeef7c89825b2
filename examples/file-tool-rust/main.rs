// A file-processing tool: file-tool-rust INPUT OUTPUT
// Writes INPUT's text upper-cased (ASCII letters; other bytes unchanged) to OUTPUT and prints
// "<lines> lines, <bytes> bytes" on stdout. Errors go to stderr with exit code 1 (2 for usage).
use std::process::exit;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: file-tool-rust INPUT OUTPUT");
        exit(2);
    }
    let data = std::fs::read(&args[1]).unwrap_or_else(|e| {
        eprintln!("file-tool-rust: cannot open {}: {}", args[1], e);
        exit(1);
    });
    let upper = data.to_ascii_uppercase();
    if let Err(e) = std::fs::write(&args[2], &upper) {
        eprintln!("file-tool-rust: cannot create {}: {}", args[2], e);
        exit(1);
    }
    let mut lines = data.iter().filter(|&&b| b == b'\n').count();
    if data.last().map_or(false, |&b| b != b'\n') {
        lines += 1; // a last line without its newline still counts
    }
    println!("{} lines, {} bytes", lines, data.len());
}
