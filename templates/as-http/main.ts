// __NAME__: an HTTP handler for nanovisor, in AssemblyScript. The gateway runs it once per
// request as CGI 1.1: the request is in the environment (REQUEST_METHOD, PATH_INFO,
// QUERY_STRING, CONTENT_LENGTH, HTTP_*) and the body on stdin; the answer is headers, an
// empty line and the body on stdout (docs/gateway.md).
import { getenv, print, readStdin } from "./wasi";

const method = getenv("REQUEST_METHOD");
const path = getenv("PATH_INFO");
const length = I32.parseInt(getenv("CONTENT_LENGTH"));
print("Content-Type: text/plain\n\n");
print("Hello from __NAME__: " + (method == "" ? "GET" : method) + " " + (path == "" ? "/" : path) + "\n");
if (length > 0) print("you sent: " + readStdin(length) + "\n");
