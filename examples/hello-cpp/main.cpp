// Hello world in C++ (libc++ iostream, built without exceptions).
#include <iostream>
#include <string>
#include <vector>

int main() {
  std::vector<std::string> words{"Hello,", "world!", "(C++", "on", "nanovisor)"};
  for (size_t i = 0; i < words.size(); i++) std::cout << words[i] << (i + 1 < words.size() ? " " : "\n");
  return 0;
}
