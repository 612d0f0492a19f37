/* libFuzzer harness: ihttp_parse_header_block on arbitrary bytes, given exactly `size` bytes
 * (no terminator, so ASan sees any read past the block). Contract checked: every name and value
 * lies inside the block, names are non-empty, values carry no surrounding white space, and the
 * returned count equals the number of callbacks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

typedef struct Block {
  const char *start;
  size_t len;
  int calls;
} Block;

/* Checks one header against the block; aborts on a violation. */
static void visit(const char *n, size_t nl, const char *v, size_t vl, void *ud) {
  Block *b = ud;
  b->calls++;
  if (nl == 0 || n < b->start || n + nl > b->start + b->len) abort();
  if (vl > 0 && (v < b->start || v + vl > b->start + b->len)) abort();
  if (vl > 0 && (v[0] == ' ' || v[0] == '\t' || v[vl - 1] == ' ' || v[vl - 1] == '\t')) abort();
  volatile char sink = 0;
  for (size_t i = 0; i < nl; i++) sink ^= n[i];
  for (size_t i = 0; i < vl; i++) sink ^= v[i];
  (void)sink;
}

/* Parses one input from an exactly-sized heap copy. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *raw = malloc(size ? size : 1);
  if (raw == NULL) return 0;
  memcpy(raw, data, size);
  Block b = {raw, size, 0};
  int n = ihttp_parse_header_block(raw, size, visit, &b);
  if (n != b.calls) abort();
  free(raw);
  return 0;
}
