#!/bin/sh
# No binding keeps module state in C globals: no zero-initialised (.bss) objects in any built
# module, and no file-scope or function-scope `static` variable that is not const in bindings/.
BUILD=${INTROSPECT_BUILD:-build}
passed=0; failed=0
# A module built with --coverage (make coverage) also holds libgcov's own variables: those
# (the names libgcov.a defines) are not the binding's.
gcov_vars=$(nm "$(gcc -print-file-name=libgcov.a)" 2>/dev/null | awk '$2 ~ /^[bB]$/ {print $3}' | sort -u)
for so in "$BUILD"/lua/introspect/*.so; do
  [ -e "$so" ] || continue
  bss=$(nm "$so" | awk '$2 ~ /^[bB]$/ && $3 !~ /^(completed\.|__|_end|_edata|__bss_start)/ {print $3}')
  if nm "$so" | grep -q ' __gcov_root$'; then
    bss=$(echo "$bss" | grep -vxF "$gcov_vars" || true)
  fi
  if [ -n "$bss" ]; then
    echo "FAIL: $so has mutable globals: $bss"; failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
done
# static variables that are not const (functions and const tables are fine)
hits=$(grep -nE '^\s*static\s' bindings/*.c | grep -vE 'static\s+(inline\s+)?const\b|static\s+[^=;]*\(' || true)
if [ -n "$hits" ]; then
  echo "FAIL: non-const static variables:"; echo "$hits"; failed=$((failed + 1))
else
  passed=$((passed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
