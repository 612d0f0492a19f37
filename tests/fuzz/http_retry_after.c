/* libFuzzer harness: ihttp_parse_retry_after and ihttp_parse_retry_after_ms on arbitrary bytes
 * (NUL-terminated copy). Contract checked: the result is -1 or a finite delay >= 0. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

/* Aborts unless x is -1 (unparseable) or a finite number >= 0. */
static void check_delay(double x) {
  if (!(x == -1 || (isfinite(x) && x >= 0))) abort();
}

/* Parses one input both ways, with `now` taken from its first bytes as well as 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (s == NULL) return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  time_t now = 0;
  if (size >= sizeof(uint32_t)) {
    uint32_t t;
    memcpy(&t, data, sizeof t);
    now = (time_t)t;
  }
  double a = ihttp_parse_retry_after(s, 0);
  check_delay(a);
  check_delay(ihttp_parse_retry_after(s, now));
  check_delay(ihttp_parse_retry_after_ms(s));
  free(s);
  return 0;
}
