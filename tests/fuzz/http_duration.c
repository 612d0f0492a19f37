/* libFuzzer harness: ihttp_parse_duration (x-ratelimit-reset-* values) on arbitrary bytes.
 * Contract checked: the result is -1 or a finite number of seconds >= 0. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

/* Parses one NUL-terminated copy of the input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (s == NULL) return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  double x = ihttp_parse_duration(s);
  if (!(x == -1 || (isfinite(x) && x >= 0))) abort();
  free(s);
  return 0;
}
