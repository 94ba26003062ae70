/* The process-wide options (tinyalloc.h documents them): read from the
 * environment once, changeable at any time. */
#ifndef TINYALLOC_ALLOC_OPTIONS_H_
#define TINYALLOC_ALLOC_OPTIONS_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tinyalloc/tinyalloc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The value of option, as ta_option_get but for a known option. */
long long ta_options_value(ta_option_t option);

/* Parses an option's text: a decimal number, with a K, M or G suffix where
 * sizes allow one. False (and *out untouched) when malformed or too large. */
bool ta_options_parse(const char *text, bool size_suffix, long long *out);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_OPTIONS_H_ */
