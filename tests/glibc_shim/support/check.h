/* Checks that record a failure (the test then exits 1) or exit at once. */
#ifndef TA_GLIBC_SHIM_CHECK_H
#define TA_GLIBC_SHIM_CHECK_H
#include <stdio.h>
#include <stdlib.h>

static int ta_shim_failures;

#define TA_SHIM_REPORT(...)                                   \
  do {                                                        \
    printf("error: %s:%d: ", __FILE__, __LINE__);             \
    printf(__VA_ARGS__);                                      \
    printf("\n");                                             \
    fflush(stdout);                                           \
  } while (0)

#define FAIL(...)                \
  do {                           \
    TA_SHIM_REPORT(__VA_ARGS__); \
    ta_shim_failures++;          \
  } while (0)
#define FAIL_RET(...)            \
  do {                           \
    TA_SHIM_REPORT(__VA_ARGS__); \
    return 1;                    \
  } while (0)
#define FAIL_EXIT(status, ...)   \
  do {                           \
    TA_SHIM_REPORT(__VA_ARGS__); \
    exit(status);                \
  } while (0)
#define FAIL_EXIT1(...) FAIL_EXIT(1, __VA_ARGS__)
#define FAIL_UNSUPPORTED(...) FAIL_EXIT(77, __VA_ARGS__)
#define TEST_VERIFY(expr) \
  do {                    \
    if (!(expr)) FAIL("not true: %s", #expr); \
  } while (0)
#define TEST_VERIFY_EXIT(expr) \
  do {                         \
    if (!(expr)) FAIL_EXIT1("not true: %s", #expr); \
  } while (0)
#define TEST_COMPARE(left, right)                                             \
  do {                                                                        \
    long long ta_l = (long long)(left), ta_r = (long long)(right);            \
    if (ta_l != ta_r) FAIL("%s == %s: %lld != %lld", #left, #right, ta_l, ta_r); \
  } while (0)
#endif
