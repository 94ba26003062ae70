/* C++ operator new and delete on tinyalloc, for the override and preload
 * builds: every form of the standard (plain, array, nothrow, sized,
 * over-aligned).
 *
 * Written in C under the Itanium C++ ABI's names (LP64: size_t is `m`), so
 * that libtinyalloc.so needs no C++ runtime: loading libstdc++ into every
 * preloaded process (most of them C programs: sh, sed, make) cost 1.4 ms and
 * 1.4 MiB each. Only running out of memory needs the C++ runtime, and a
 * process that calls operator new has one: the new-handler loop and the
 * std::bad_alloc the standard asks for go through weak references to the
 * program's libstdc++ (std::get_new_handler, std::__throw_bad_alloc), bound
 * when the library is loaded. Built with -fexceptions, so that an exception
 * from a new-handler unwinds through these frames. Two limits of doing it
 * from C: a nothrow new whose new-handler throws lets the exception through
 * (C cannot catch it), and a throwing new that runs out of memory in a
 * process that had no C++ runtime when the library was loaded (a C program
 * that dlopens C++ code later) aborts with a message instead of throwing. */
#include <stddef.h>
#include <stdlib.h>

#include "tinyalloc/malloc.h"
#include "tinyalloc/os_env.h"

_Static_assert(sizeof(size_t) == sizeof(unsigned long) && sizeof(void *) == 8,
               "the mangled names below are those of LP64 targets");

#define TA_EXPORT __attribute__((visibility("default")))

/* <new> declares these names; C has nothing to include for them. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

typedef void (*ta_new_handler_t)(void);

/* std::get_new_handler() and std::__throw_bad_alloc(), if the process has them. */
extern ta_new_handler_t _ZSt15get_new_handlerv(void) __attribute__((weak));
extern void _ZSt17__throw_bad_allocv(void) __attribute__((weak, noreturn));

static void *alloc_once(size_t size, size_t align) {
  return align <= TA_MALLOC_ALIGN ? ta_malloc(size) : ta_aligned_alloc(align, size);
}

/* Runs the new-handler if there is one: the caller may try again. */
static int run_new_handler(void) {
  ta_new_handler_t handler = _ZSt15get_new_handlerv != NULL ? _ZSt15get_new_handlerv() : NULL;
  if (handler == NULL) return 0;
  handler();
  return 1;
}

static void *alloc_or_throw(size_t size, size_t align) {
  for (;;) {
    void *p = alloc_once(size, align);
    if (p != NULL) return p;
    if (!run_new_handler()) break;
  }
  if (_ZSt17__throw_bad_allocv != NULL) _ZSt17__throw_bad_allocv();
  static const char message[] =
      "tinyalloc: operator new: out of memory, and no C++ runtime to throw std::bad_alloc\n";
  ta_os_write_stderr(message, sizeof(message) - 1);
  abort();
}

static void *alloc_or_null(size_t size, size_t align) {
  for (;;) {
    void *p = alloc_once(size, align);
    if (p != NULL || !run_new_handler()) return p;
  }
}

/* operator new and new[]: plain, nothrow, aligned, aligned nothrow. The
 * nothrow_t argument is a reference, passed as a pointer. */
TA_EXPORT void *_Znwm(size_t size) { return alloc_or_throw(size, 0); }
TA_EXPORT void *_Znam(size_t size) { return alloc_or_throw(size, 0); }
TA_EXPORT void *_ZnwmRKSt9nothrow_t(size_t size, const void *nothrow) {
  (void)nothrow;
  return alloc_or_null(size, 0);
}
TA_EXPORT void *_ZnamRKSt9nothrow_t(size_t size, const void *nothrow) {
  (void)nothrow;
  return alloc_or_null(size, 0);
}
TA_EXPORT void *_ZnwmSt11align_val_t(size_t size, size_t align) {
  return alloc_or_throw(size, align);
}
TA_EXPORT void *_ZnamSt11align_val_t(size_t size, size_t align) {
  return alloc_or_throw(size, align);
}
TA_EXPORT void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t size, size_t align, const void *nothrow) {
  (void)nothrow;
  return alloc_or_null(size, align);
}
TA_EXPORT void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t size, size_t align, const void *nothrow) {
  (void)nothrow;
  return alloc_or_null(size, align);
}

/* operator delete and delete[]: plain, nothrow, sized, aligned, sized and
 * aligned, aligned nothrow. tinyalloc finds the block from the pointer alone. */
TA_EXPORT void _ZdlPv(void *p) { ta_free(p); }
TA_EXPORT void _ZdaPv(void *p) { ta_free(p); }
TA_EXPORT void _ZdlPvRKSt9nothrow_t(void *p, const void *nothrow) {
  (void)nothrow;
  ta_free(p);
}
TA_EXPORT void _ZdaPvRKSt9nothrow_t(void *p, const void *nothrow) {
  (void)nothrow;
  ta_free(p);
}
TA_EXPORT void _ZdlPvm(void *p, size_t size) {
  (void)size;
  ta_free(p);
}
TA_EXPORT void _ZdaPvm(void *p, size_t size) {
  (void)size;
  ta_free(p);
}
TA_EXPORT void _ZdlPvSt11align_val_t(void *p, size_t align) {
  (void)align;
  ta_free(p);
}
TA_EXPORT void _ZdaPvSt11align_val_t(void *p, size_t align) {
  (void)align;
  ta_free(p);
}
TA_EXPORT void _ZdlPvmSt11align_val_t(void *p, size_t size, size_t align) {
  (void)size;
  (void)align;
  ta_free(p);
}
TA_EXPORT void _ZdaPvmSt11align_val_t(void *p, size_t size, size_t align) {
  (void)size;
  (void)align;
  ta_free(p);
}
TA_EXPORT void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const void *nothrow) {
  (void)align;
  (void)nothrow;
  ta_free(p);
}
TA_EXPORT void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const void *nothrow) {
  (void)align;
  (void)nothrow;
  ta_free(p);
}
