/* Exit status of a test that cannot run here. */
#ifndef TA_GLIBC_SHIM_TEST_DRIVER_H
#define TA_GLIBC_SHIM_TEST_DRIVER_H
#define EXIT_UNSUPPORTED 77
#define DEFAULT_TIMEOUT 20
#endif
