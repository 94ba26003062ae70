/* Test support: a mapper that fails chosen calls, for fault injection. It
 * wraps a base mapper (the OS's by default) and passes every call through,
 * except those its rule picks, which fail with the OS's own out-of-memory code
 * (ENOMEM on POSIX, ERROR_NOT_ENOUGH_MEMORY on Windows) without reaching the
 * base, exactly as the OS would report exhaustion.
 *
 *   ta_failing_mapper_t *fm = ta_failing_mapper_new(NULL);
 *   ta_failing_mapper_fail_nth(fm, TA_MAPPER_COMMIT, 3);  // 3rd commit fails
 *   ta_mapper_set(ta_failing_mapper_table(fm));
 *   ...
 *   ta_mapper_set(NULL);
 *   ta_failing_mapper_free(fm);
 *
 * Calls are counted per kind from 1, with atomics: the mapper may be used from
 * many threads at once. Choosing a rule restarts the counts, and must not
 * happen while another thread calls the mapper. */
#ifndef TINYALLOC_TESTING_FAILING_MAPPER_H_
#define TINYALLOC_TESTING_FAILING_MAPPER_H_

#include <stdbool.h>
#include <stddef.h>

#include "tinyalloc/mapper.h"
#include "tinyalloc/testing/mapper_op.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ta_failing_mapper ta_failing_mapper_t;

/* Decides whether a call fails: op is its kind, op_call its number among the
 * calls of that kind, call its number among all calls (both from 1). May be
 * called from several threads at once. */
typedef bool (*ta_fail_decider_t)(void *arg, ta_mapper_op_t op, size_t op_call, size_t call);

/* A failing mapper over base (NULL: ta_mapper_default()), failing nothing
 * until given a rule. NULL if out of memory. */
ta_failing_mapper_t *ta_failing_mapper_new(const ta_mapper_t *base);

/* Frees fm, which must not be installed. */
void ta_failing_mapper_free(ta_failing_mapper_t *fm);

/* The table to install with ta_mapper_set; valid until fm is freed. */
const ta_mapper_t *ta_failing_mapper_table(ta_failing_mapper_t *fm);

/* Rules; each replaces the previous one and restarts the counts. */

/* Fails nothing. */
void ta_failing_mapper_fail_none(ta_failing_mapper_t *fm);

/* Fails the nth call of kind op (n from 1), and only that one. */
void ta_failing_mapper_fail_nth(ta_failing_mapper_t *fm, ta_mapper_op_t op, size_t n);

/* Fails the nth call of kind op and every later one of that kind. */
void ta_failing_mapper_fail_from(ta_failing_mapper_t *fm, ta_mapper_op_t op, size_t n);

/* Fails call i (counting all kinds, from 1) when script[i - 1] is nonzero;
 * calls beyond len pass. The script is not copied and must outlive its use. */
void ta_failing_mapper_fail_script(ta_failing_mapper_t *fm, const unsigned char *script,
                                   size_t len);

/* Fails the calls for which decide(arg, ...) returns true. */
void ta_failing_mapper_fail_with(ta_failing_mapper_t *fm, ta_fail_decider_t decide, void *arg);

/* Calls of kind op since the rule was chosen, failed or passed. */
size_t ta_failing_mapper_calls(ta_failing_mapper_t *fm, ta_mapper_op_t op);

/* Calls of kind op that the rule failed since it was chosen. */
size_t ta_failing_mapper_failures(ta_failing_mapper_t *fm, ta_mapper_op_t op);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_TESTING_FAILING_MAPPER_H_ */
