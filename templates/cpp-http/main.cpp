// __NAME__: an HTTP handler for nanovisor, in C++. The gateway runs it once per request as
// CGI 1.1: the request is in the environment (REQUEST_METHOD, PATH_INFO, QUERY_STRING,
// CONTENT_LENGTH, HTTP_*) and the body on stdin; the answer is headers, an empty line and the
// body on stdout (docs/gateway.md).
#include <cstdlib>
#include <iostream>
#include <string>

static std::string var(const char *name, const char *fallback) {
  const char *v = std::getenv(name);
  return v == nullptr || *v == '\0' ? fallback : v;
}

int main() {
  long n = std::atol(var("CONTENT_LENGTH", "0").c_str());
  std::string body(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  if (n > 0) std::cin.read(&body[0], n);
  body.resize(static_cast<size_t>(std::cin.gcount() > 0 ? std::cin.gcount() : 0));
  std::cout << "Content-Type: text/plain\n\n";
  std::cout << "Hello from __NAME__: " << var("REQUEST_METHOD", "GET") << " " << var("PATH_INFO", "/") << "\n";
  if (!body.empty()) std::cout << "you sent: " << body << "\n";
  return 0;
}
