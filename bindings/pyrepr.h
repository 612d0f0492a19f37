/* Python's repr(float): the shortest decimal text that reads back to the same double, shared
 * (header-only, static inline) by introspect.rng (rng.pyrepr, trial text) and
 * introspect.pyjson_c (the JSON encoder's floats), so both write the one repr. */
#ifndef INTROSPECT_PYREPR_H
#define INTROSPECT_PYREPR_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* strip_digits: copies the mantissa digits of "%e" text [buf, e) without the point and
   trailing zeros into digits. */
static inline void strip_digits(const char *buf, const char *e, char *digits) {
  int j = 0;
  for (const char *p = buf; p < e; p++) if (*p != '.') digits[j++] = *p;
  while (j > 1 && digits[j - 1] == '0') j--;
  digits[j] = '\0';
}

/* shortest_digits: the shortest decimal digits that round-trip to x (x finite, > 0), closest
   to x among the shortest; writes the digits (no trailing zeros) and returns the decimal
   exponent e such that x ~ d.ddd * 10^e. */
static inline int shortest_digits(double x, char *digits) {
  char buf[40];
  for (int prec = 0; prec < 17; prec++) {
    snprintf(buf, sizeof buf, "%.*e", prec, x);
    char *e = strchr(buf, 'e');
    int exp10 = atoi(e + 1);
    if (strtod(buf, NULL) == x) {
      strip_digits(buf, e, digits);
      return exp10;
    }
    /* at a power of two the nearest decimal can miss while a neighbour round-trips */
    char mant[24];
    int m = 0;
    for (char *p = buf; p < e; p++) if (*p != '.') mant[m++] = *p;
    mant[m] = '\0';
    unsigned long long M = strtoull(mant, NULL, 10);
    for (int d = -1; d <= 1; d += 2) {
      unsigned long long C = d < 0 ? M - 1 : M + 1;
      char cand[48];
      snprintf(cand, sizeof cand, "%llue%d", C, exp10 - prec);
      if (C == 0 || strtod(cand, NULL) != x) continue;
      int len = snprintf(mant, sizeof mant, "%llu", C);
      int j = len;
      while (j > 1 && mant[j - 1] == '0') j--;
      memcpy(digits, mant, (size_t)j);
      digits[j] = '\0';
      return exp10 + (len - (prec + 1));
    }
  }
  snprintf(buf, sizeof buf, "%.16e", x);
  char *e = strchr(buf, 'e');
  strip_digits(buf, e, digits);
  return atoi(e + 1);
}

/* py_repr: Python's repr(float) into out (at least 32 bytes); returns the length. */
static inline int py_repr(double x, char *out) {
  if (isnan(x)) return sprintf(out, "nan");
  if (isinf(x)) return sprintf(out, x > 0 ? "inf" : "-inf");
  char *o = out;
  if (signbit(x)) *o++ = '-';
  double ax = fabs(x);
  if (ax == 0) { memcpy(o, "0.0", 4); return (int)(o - out) + 3; }
  char digits[24];
  int e = shortest_digits(ax, digits);
  int nd = (int)strlen(digits);
  if (e < -4 || e >= 16) {
    *o++ = digits[0];
    if (nd > 1) { *o++ = '.'; memcpy(o, digits + 1, (size_t)nd - 1); o += nd - 1; }
    o += sprintf(o, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
  } else if (e < 0) {
    *o++ = '0'; *o++ = '.';
    for (int i = 0; i < -e - 1; i++) *o++ = '0';
    memcpy(o, digits, (size_t)nd); o += nd;
  } else {
    for (int i = 0; i <= e; i++) *o++ = i < nd ? digits[i] : '0';
    *o++ = '.';
    if (nd > e + 1) { memcpy(o, digits + e + 1, (size_t)(nd - e - 1)); o += nd - e - 1; }
    else *o++ = '0';
  }
  *o = '\0';
  return (int)(o - out);
}

#endif
