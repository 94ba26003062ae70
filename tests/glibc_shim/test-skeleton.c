/* The older form of the test driver: the test defines TEST_FUNCTION (a call
 * of its do_test) before including this file. */
#include "support/check.h"
#include "support/support.h"
#include "support/test-driver.h"

#ifndef TEST_FUNCTION
#define TEST_FUNCTION do_test()
#endif

int main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  int status = TEST_FUNCTION;
  return ta_shim_failures != 0 ? 1 : status;
}
