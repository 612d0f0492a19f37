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

/* repr_at: the digits of x (finite, > 0) at "%.{prec}e" if they read back to x, else those of a
   neighbour (last digit -1, then +1) that does: writes digits (no trailing zeros) and *exp10
   (x ~ d.ddd * 10^exp10) and returns 1; returns 0, writing nothing, if none round-trips. */
static inline int repr_at(double x, int prec, char *digits, int *exp10) {
  char buf[40];
  snprintf(buf, sizeof buf, "%.*e", prec, x);
  char *e = strchr(buf, 'e');
  int ex = atoi(e + 1);
  if (strtod(buf, NULL) == x) {
    strip_digits(buf, e, digits);
    *exp10 = ex;
    return 1;
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
    snprintf(cand, sizeof cand, "%llue%d", C, ex - prec);
    if (C == 0 || strtod(cand, NULL) != x) continue;
    int len = snprintf(mant, sizeof mant, "%llu", C);
    int j = len;
    while (j > 1 && mant[j - 1] == '0') j--;
    memcpy(digits, mant, (size_t)j);
    digits[j] = '\0';
    *exp10 = ex + (len - (prec + 1));
    return 1;
  }
  return 0;
}

/* shortest_digits: the shortest decimal digits that round-trip to x (x finite, > 0), closest
   to x among the shortest; writes the digits (no trailing zeros) and returns the decimal
   exponent e such that x ~ d.ddd * 10^e. The answer is repr_at at the least precision where
   it succeeds. Unless x is a power of two its round-trip interval is symmetric, so the nearest
   decimal at one more digit is at least as close as any that succeeded: success at one precision
   means success at all higher ones, and the least is found by bisection (17 digits always
   succeed), in about 6 tries instead of up to 17. */
static inline int shortest_digits(double x, char *digits) {
  int e2, exp10 = 0;
  if (frexp(x, &e2) != 0.5) {
    for (int prec = 0; prec < 2; prec++)
      if (repr_at(x, prec, digits, &exp10)) return exp10;
    int lo = 2, hi = 16, found = 0;  /* digits hold repr_at(x, hi) once found */
    while (lo < hi) {
      int mid = (lo + hi) / 2;
      if (repr_at(x, mid, digits, &exp10)) { hi = mid; found = 1; }
      else lo = mid + 1;
    }
    if (found || repr_at(x, hi, digits, &exp10)) return exp10;
  } else {
    for (int prec = 0; prec < 17; prec++)
      if (repr_at(x, prec, digits, &exp10)) return exp10;
  }
  char buf[40];
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
