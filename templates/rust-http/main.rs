// __NAME__: an HTTP handler for nanovisor, in Rust. The gateway runs it once per request as
// CGI 1.1: the request is in the environment (REQUEST_METHOD, PATH_INFO, QUERY_STRING,
// CONTENT_LENGTH, HTTP_*) and the body on stdin; the answer is headers, an empty line and the
// body on stdout (docs/gateway.md).
use std::env;
use std::io::{self, Read};

fn main() {
    let method = env::var("REQUEST_METHOD").unwrap_or_else(|_| "GET".into());
    let path = env::var("PATH_INFO").ok().filter(|p| !p.is_empty()).unwrap_or_else(|| "/".into());
    let length: u64 = env::var("CONTENT_LENGTH").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = String::new();
    io::stdin().take(length).read_to_string(&mut body).expect("reading the request body");
    print!("Content-Type: text/plain\n\n");
    println!("Hello from __NAME__: {} {}", method, path);
    if !body.is_empty() {
        println!("you sent: {}", body);
    }
}
