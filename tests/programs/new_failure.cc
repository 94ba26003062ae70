// Running out of memory in operator new, as the standard describes it: the
// new-handler is called until it gives up, then std::bad_alloc is thrown;
// the nothrow forms return nullptr. Prints what happened, so that a run on
// tinyalloc (tests/preload_test.sh) can be compared with glibc's.
#include <cstddef>
#include <cstdio>
#include <new>

namespace {

int handler_calls = 0;

void GiveUpAfterThree() {
  if (++handler_calls == 3) std::set_new_handler(nullptr);
}

}  // namespace

int main() {
  const std::size_t too_big = static_cast<std::size_t>(1) << 50;
  std::set_new_handler(GiveUpAfterThree);
  try {
    char *p = new char[too_big];
    std::printf("new[] of 2^50 bytes returned %p\n", static_cast<void *>(p));
    return 1;
  } catch (const std::bad_alloc &) {
    std::printf("new[] threw std::bad_alloc after %d new-handler calls\n", handler_calls);
  }
  try {
    auto *q = new (std::align_val_t(64)) char[too_big];
    std::printf("aligned new[] returned %p\n", static_cast<void *>(q));
    return 1;
  } catch (const std::bad_alloc &) {
    std::printf("aligned new[] threw std::bad_alloc\n");
  }
  std::printf("nothrow new: %s\n", new (std::nothrow) char[too_big] == nullptr ? "nullptr" : "a block");
  int *small = new int(42);
  std::printf("new int: %d\n", *small);
  delete small;
  return 0;
}
