// A CGI 1.1 handler (as WAGI and nanovisor's gateway run them): the request is in the
// environment (REQUEST_METHOD, PATH_INFO, QUERY_STRING, CONTENT_LENGTH, HTTP_*) and the body on
// stdin; the response is headers, a blank line and the body on stdout.
// It echoes the method, path, query, request headers and body (same output as cgi-echo-c).
// PATH_INFO /status/NNN answers with status NNN.
use std::env;
use std::io::{self, Read, Write};

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        418 => "I'm a teapot",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn main() {
    let method = env::var("REQUEST_METHOD").unwrap_or_else(|_| "GET".into());
    let path = env::var("PATH_INFO").unwrap_or_default();
    let query = env::var("QUERY_STRING").unwrap_or_default();
    let length: u64 = env::var("CONTENT_LENGTH").ok().and_then(|v| v.parse().ok()).unwrap_or(0);

    let status = match path.strip_prefix("/status/") {
        Some(code) => match code.parse::<u16>() {
            Ok(s) if (200..=599).contains(&s) => s,
            _ => 400,
        },
        None => 200,
    };

    let mut body = Vec::new();
    io::stdin().take(length).read_to_end(&mut body).expect("reading the request body");

    let mut headers: Vec<String> = env::vars().filter(|(k, _)| k.starts_with("HTTP_")).map(|(k, v)| format!("{}={}", k, v)).collect();
    headers.sort();

    let mut out = io::stdout().lock();
    write!(out, "Status: {} {}\nContent-Type: text/plain\n\n", status, reason(status)).unwrap();
    write!(out, "method: {}\npath: {}\nquery: {}\n", method, path, query).unwrap();
    for h in &headers {
        writeln!(out, "header: {}", h).unwrap();
    }
    writeln!(out, "body: {} bytes", body.len()).unwrap();
    out.write_all(&body).unwrap();
}
