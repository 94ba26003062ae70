// Replays fuzz inputs through a target's LLVMFuzzerTestOneInput: every file
// named on the command line, and every regular file in each directory named.
// This is the main of the <target>_replay tests (the seed and crash corpus
// under fuzz/testdata/<target>/) and of the fuzz binaries in builds without a
// fuzzer. Each input runs in a child process of its own, so that one failing
// input (a check aborts) does not hide the others: every failure is listed.
// Fails when no input was found: an empty corpus is a mistake, not a pass.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace fs = std::filesystem;

int main(int argc, char **argv) {
  std::vector<std::string> files;
  for (int i = 1; i < argc; i++) {
    std::error_code ec;
    if (fs::is_directory(argv[i], ec)) {
      std::vector<std::string> found;
      for (const auto &entry : fs::directory_iterator(argv[i])) {
        if (entry.is_regular_file()) found.push_back(entry.path().string());
      }
      std::sort(found.begin(), found.end());
      std::printf("replay: %zu inputs in %s\n", found.size(), argv[i]);
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(argv[i], ec)) {
      files.push_back(argv[i]);
    } else {
      std::fprintf(stderr, "replay: %s: no such file or directory\n", argv[i]);
      return 1;
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "replay: no inputs (usage: %s FILE_OR_DIR...)\n", argv[0]);
    return 1;
  }
  size_t failed = 0;
  for (const std::string &path : files) {
    std::ifstream stream(path, std::ios::binary);
    std::vector<uint8_t> data((std::istreambuf_iterator<char>(stream)),
                              std::istreambuf_iterator<char>());
    if (!stream.good() && !stream.eof()) {
      std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
      return 1;
    }
    std::printf("replay: %s (%zu bytes)\n", path.c_str(), data.size());
    std::fflush(stdout);
    std::fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
      std::perror("replay: fork");
      return 1;
    }
    if (pid == 0) {
      LLVMFuzzerTestOneInput(data.data(), data.size());
      std::fflush(stdout);
      std::fflush(stderr);
      _exit(0);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      failed++;
      if (WIFSIGNALED(status)) {
        std::printf("replay: FAIL %s (signal %d)\n", path.c_str(), WTERMSIG(status));
      } else {
        std::printf("replay: FAIL %s (exit status %d)\n", path.c_str(), WEXITSTATUS(status));
      }
    }
  }
  std::printf("replay: %zu inputs, %zu failed\n", files.size(), failed);
  return failed == 0 ? 0 : 1;
}
