/* Pure helpers of bindings/http.c, exposed for C unit tests and fuzzers (no Lua, no I/O). */
#ifndef INTROSPECT_HTTP_H
#define INTROSPECT_HTTP_H

#include <stddef.h>
#include <time.h>

/* Parses a Retry-After value: delta-seconds (integer or decimal) or an HTTP date, relative
 * to `now` (Unix seconds). Returns the delay in seconds (>= 0), or -1 if unparseable. */
double ihttp_parse_retry_after(const char *value, time_t now);

/* Parses a Retry-After-Ms value (decimal milliseconds). Returns seconds, or -1. */
double ihttp_parse_retry_after_ms(const char *value);

/* Parses an OpenAI rate-limit reset duration such as "1s", "6m0s", "1h2m3.5s", "20ms".
 * Returns seconds, or -1 if unparseable. */
double ihttp_parse_duration(const char *value);

/* Calls fn(name, name_len, value, value_len, ud) for each "Name: value" line of a raw header
 * block (CRLF or LF separated; status lines and malformed lines skipped). Whitespace around
 * the value is trimmed; the name is passed as is. Returns the number of headers found. */
int ihttp_parse_header_block(const char *raw, size_t len,
                             void (*fn)(const char *, size_t, const char *, size_t, void *),
                             void *ud);

#endif
