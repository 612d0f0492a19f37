/* The C unit tests' one way of counting checks: check(ok, what) records a check and prints the
 * failing ones; check_summary() prints "N passed, N failed" and returns main's exit status. */
#ifndef INTROSPECT_TEST_CHECK_H
#define INTROSPECT_TEST_CHECK_H

#include <stdio.h>

static int passed, failed;

/* Records one check; prints the failing ones. */
static void check(int ok, const char *what) {
  if (ok) passed++;
  else {
    failed++;
    printf("FAIL: %s\n", what);
  }
}

/* Prints the counts; returns 0 when nothing failed, else 1. */
static int check_summary(void) {
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

#endif
