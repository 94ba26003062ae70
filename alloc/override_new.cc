// C++ operator new and delete on tinyalloc, for the override and preload
// builds: every form of the standard (plain, array, nothrow, sized,
// over-aligned), with the new-handler loop the standard asks of throwing new.
#include <cstddef>
#include <new>

#include "tinyalloc/malloc.h"

#define TA_EXPORT __attribute__((visibility("default")))

namespace {

void *AllocOrThrow(std::size_t size, std::size_t align) {
  for (;;) {
    void *p = align <= TA_MALLOC_ALIGN ? ta_malloc(size) : ta_aligned_alloc(align, size);
    if (p != nullptr) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

void *AllocOrNull(std::size_t size, std::size_t align) noexcept {
  try {
    return AllocOrThrow(size, align);
  } catch (...) {
    return nullptr;
  }
}

}  // namespace

TA_EXPORT void *operator new(std::size_t size) { return AllocOrThrow(size, 0); }
TA_EXPORT void *operator new[](std::size_t size) { return AllocOrThrow(size, 0); }
TA_EXPORT void *operator new(std::size_t size, const std::nothrow_t &) noexcept {
  return AllocOrNull(size, 0);
}
TA_EXPORT void *operator new[](std::size_t size, const std::nothrow_t &) noexcept {
  return AllocOrNull(size, 0);
}
TA_EXPORT void *operator new(std::size_t size, std::align_val_t align) {
  return AllocOrThrow(size, static_cast<std::size_t>(align));
}
TA_EXPORT void *operator new[](std::size_t size, std::align_val_t align) {
  return AllocOrThrow(size, static_cast<std::size_t>(align));
}
TA_EXPORT void *operator new(std::size_t size, std::align_val_t align,
                             const std::nothrow_t &) noexcept {
  return AllocOrNull(size, static_cast<std::size_t>(align));
}
TA_EXPORT void *operator new[](std::size_t size, std::align_val_t align,
                               const std::nothrow_t &) noexcept {
  return AllocOrNull(size, static_cast<std::size_t>(align));
}

TA_EXPORT void operator delete(void *p) noexcept { ta_free(p); }
TA_EXPORT void operator delete[](void *p) noexcept { ta_free(p); }
TA_EXPORT void operator delete(void *p, const std::nothrow_t &) noexcept { ta_free(p); }
TA_EXPORT void operator delete[](void *p, const std::nothrow_t &) noexcept { ta_free(p); }
TA_EXPORT void operator delete(void *p, std::size_t) noexcept { ta_free(p); }
TA_EXPORT void operator delete[](void *p, std::size_t) noexcept { ta_free(p); }
TA_EXPORT void operator delete(void *p, std::align_val_t) noexcept { ta_free(p); }
TA_EXPORT void operator delete[](void *p, std::align_val_t) noexcept { ta_free(p); }
TA_EXPORT void operator delete(void *p, std::size_t, std::align_val_t) noexcept { ta_free(p); }
TA_EXPORT void operator delete[](void *p, std::size_t, std::align_val_t) noexcept { ta_free(p); }
TA_EXPORT void operator delete(void *p, std::align_val_t, const std::nothrow_t &) noexcept {
  ta_free(p);
}
TA_EXPORT void operator delete[](void *p, std::align_val_t, const std::nothrow_t &) noexcept {
  ta_free(p);
}
