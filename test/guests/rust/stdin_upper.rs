// std::io stdin/stdout/stderr: copies stdin to stdout uppercased, line by line, and reports
// the line and byte counts on stderr.
use std::io::{self, BufRead, Write};

fn main() {
    let stdin = io::stdin();
    let mut out = io::stdout().lock();
    let (mut lines, mut bytes) = (0usize, 0usize);
    for line in stdin.lock().lines() {
        let line = line.expect("stdin is not UTF-8");
        lines += 1;
        bytes += line.len() + 1;
        writeln!(out, "{}", line.to_uppercase()).unwrap();
    }
    eprintln!("{} lines, {} bytes", lines, bytes);
}
