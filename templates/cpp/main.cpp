// __NAME__: a command for nanovisor, in C++ (libc++, no exceptions: WASI preview1 has none).
#include <iostream>

int main(int argc, char **argv) {
  std::cout << "Hello from __NAME__!\n";
  for (int i = 1; i < argc; i++) std::cout << "arg " << i << ": " << argv[i] << "\n";
  return 0;
}
