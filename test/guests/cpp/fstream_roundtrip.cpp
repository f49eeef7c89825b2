// C++ (libc++, no exceptions) inside the scratch preopen named by argv[1]: std::ofstream /
// std::ifstream round trip, std::sort and std::map over the data, iostream output.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

static void check(bool cond, const std::string &what) {
  if (cond) {
    std::cout << "ok: " << what << "\n";
  } else {
    std::cerr << "FAIL fstream_roundtrip: " << what << std::endl;
    std::exit(1);
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    std::cerr << "usage: fstream_roundtrip SCRATCH" << std::endl;
    return 2;
  }
  const std::string path = std::string(argv[1]) + "/words.txt";
  {
    std::ofstream out(path);
    check(out.good(), "ofstream opens a new file");
    for (const char *w : {"pear", "apple", "fig", "apple", "kiwi"}) out << w << "\n";
  }
  std::ifstream in(path);
  check(in.good(), "ifstream opens it again");
  std::vector<std::string> words;
  for (std::string w; std::getline(in, w);) words.push_back(w);
  check(words.size() == 5, "five lines read back");
  std::sort(words.begin(), words.end());
  std::map<std::string, int> counts;
  for (const auto &w : words) counts[w]++;
  std::ostringstream joined;
  for (const auto &[w, n] : counts) joined << w << "=" << n << " ";
  check(joined.str() == "apple=2 fig=1 kiwi=1 pear=1 ", "sorted and counted: " + joined.str());
  {
    std::ofstream app(path, std::ios::app);
    app << "plum\n";
  }
  std::ifstream again(path, std::ios::ate);
  check(again.tellg() == std::streampos(31), "append made the file 31 bytes");
  std::ifstream missing(std::string(argv[1]) + "/missing.txt");
  check(!missing.good(), "opening a missing file fails");
  check(std::remove(path.c_str()) == 0, "std::remove deletes the file");
  std::cout << "PASS fstream_roundtrip" << std::endl;
  return 0;
}
