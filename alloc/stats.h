/* Statistics and introspection (tinyalloc.h has the public half). */
#ifndef TINYALLOC_ALLOC_STATS_H_
#define TINYALLOC_ALLOC_STATS_H_

#ifdef __cplusplus
extern "C" {
#endif

/* With TA_OPTION_SHOW_STATS set, arranges (once per process) for the
 * process-wide report to be printed to stderr at exit. */
void ta_stats_print_at_exit_if_asked(void);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_STATS_H_ */
