/* tinyalloc error vocabulary, shared by the platform layer and the allocator.
 * Included by tinyalloc/tinyalloc.h; users need not include it themselves. */
#ifndef TINYALLOC_ERROR_H_
#define TINYALLOC_ERROR_H_

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ta_error {
  TA_OK = 0,
  TA_ERR_INVALID_LAYOUT,  /* align not a power of two, or size/align too large */
  TA_ERR_OUT_OF_MEMORY,   /* the OS refused to map or commit memory */
  TA_ERR_INVALID_POINTER, /* a pointer this allocator did not hand out, or a double free */
  TA_ERR_PLATFORM,        /* any other OS failure; see ta_last_os_error() */
  TA_ERR_IN_USE,          /* the mapper cannot be replaced while memory mapped through it is live */
  TA_ERR_INVALID_ARGUMENT /* a NULL or malformed argument to a function that needs one */
} ta_error_t;

/* A short English description of err; never NULL (unknown values give a
 * generic text). Safe from any thread. */
const char *ta_error_str(ta_error_t err);

/* The OS's own error code (errno on POSIX, GetLastError() on Windows) behind
 * the last TA_ERR_OUT_OF_MEMORY or TA_ERR_PLATFORM recorded on the calling
 * thread, or 0 if there was none. Thread-local. */
int ta_last_os_error(void);

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ERROR_H_ */
