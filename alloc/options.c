/* Options: defaults, the environment read once (thread-safely, without the C
 * library's allocating calls), and atomic values that any thread may change. */
#include "alloc/options.h"

#include <limits.h>
#include <string.h>

#include "alloc/atomic.h"
#include "tinyalloc/os_env.h"
#include "tinyalloc/os_thread.h"

typedef struct option_desc {
  const char *env;
  long long default_value;
  bool size_suffix;
} option_desc_t;

static const option_desc_t descs[TA_OPTION_COUNT] = {
    [TA_OPTION_PURGE_DELAY_MS] = {"TINYALLOC_PURGE_DELAY_MS", 10, false},
    [TA_OPTION_RETAIN_BYTES] = {"TINYALLOC_RETAIN_BYTES", 128LL << 20, true},
    [TA_OPTION_SHOW_STATS] = {"TINYALLOC_SHOW_STATS", 0, false},
    [TA_OPTION_VERBOSE] = {"TINYALLOC_VERBOSE", 0, false},
};

static TA_ATOMIC(long long) values[TA_OPTION_COUNT];

enum { OPTIONS_UNREAD = 0, OPTIONS_READING = 1, OPTIONS_READY = 2 };
static TA_ATOMIC(int) state;

bool ta_options_parse(const char *text, bool size_suffix, long long *out) {
  if (*text < '0' || *text > '9') return false;
  long long v = 0;
  for (; *text >= '0' && *text <= '9'; text++) {
    int digit = *text - '0';
    if (v > (LLONG_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  if (size_suffix && *text != '\0' && text[1] == '\0') {
    int shift = *text == 'K' || *text == 'k'   ? 10
                : *text == 'M' || *text == 'm' ? 20
                : *text == 'G' || *text == 'g' ? 30
                                               : -1;
    if (shift < 0 || v > (LLONG_MAX >> shift)) return false;
    v <<= shift;
    text++;
  }
  if (*text != '\0') return false;
  *out = v;
  return true;
}

static void warn_malformed(const option_desc_t *desc, const char *text) {
  /* No stdio: this may run inside malloc, before the C library is ready. */
  static const char head[] = "tinyalloc: ignoring ";
  static const char tail[] = ": not a decimal number (sizes may end in K, M or G); using the default\n";
  ta_os_write_stderr(head, sizeof head - 1);
  ta_os_write_stderr(desc->env, strlen(desc->env));
  ta_os_write_stderr("=", 1);
  ta_os_write_stderr(text, strlen(text));
  ta_os_write_stderr(tail, sizeof tail - 1);
}

static void read_environment(void) {
  for (int i = 0; i < TA_OPTION_COUNT; i++) {
    const option_desc_t *desc = &descs[i];
    long long v = desc->default_value;
    char text[64];
    if (ta_os_getenv(desc->env, text, sizeof text) && !ta_options_parse(text, desc->size_suffix, &v)) {
      warn_malformed(desc, text);
      v = desc->default_value;
    }
    atomic_store_explicit(&values[i], v, memory_order_relaxed);
  }
}

/* Apart from options_ready: the huge block paths read options on every call. */
static __attribute__((noinline)) void options_read_once(void) {
  int expected = OPTIONS_UNREAD;
  if (atomic_compare_exchange_strong_explicit(&state, &expected, OPTIONS_READING,
                                              memory_order_acq_rel, memory_order_acquire)) {
    read_environment();
    atomic_store_explicit(&state, OPTIONS_READY, memory_order_release);
    return;
  }
  while (atomic_load_explicit(&state, memory_order_acquire) != OPTIONS_READY) ta_os_yield();
}

static inline void options_ready(void) {
  if (__builtin_expect(atomic_load_explicit(&state, memory_order_acquire) != OPTIONS_READY, 0)) {
    options_read_once();
  }
}

long long ta_options_value(ta_option_t option) {
  options_ready();
  return atomic_load_explicit(&values[option], memory_order_relaxed);
}

ta_error_t ta_option_set(ta_option_t option, long long value) {
  if ((unsigned)option >= TA_OPTION_COUNT || value < 0) return TA_ERR_INVALID_ARGUMENT;
  options_ready();
  atomic_store_explicit(&values[option], value, memory_order_relaxed);
  return TA_OK;
}

long long ta_option_get(ta_option_t option) {
  if ((unsigned)option >= TA_OPTION_COUNT) return -1;
  return ta_options_value(option);
}
