/* The main of tests that define do_test (and maybe TIMEOUT) and include this
 * file: runs do_test; exits 1 if a check failed, else with do_test's status. */
#include "support/check.h"
#include "support/test-driver.h"

int main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  int status = do_test();
  return ta_shim_failures != 0 ? 1 : status;
}
