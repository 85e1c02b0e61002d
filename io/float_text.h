/*
 * Fast float32 -> text, exactly as printf("%.17g", (double)f) writes it.
 *
 * Inference responses carry thousands of float32 values written as the double
 * they promote to with 17 significant digits (so a JSON client parses exactly
 * the double SageMaker's Python containers send). glibc's printf takes about
 * 0.3-0.5 us per number, which made number formatting the largest cost of a
 * 1000-row response; this writer does the common range with 128-bit integer
 * arithmetic (exact, ties to even, like glibc) and falls back to snprintf for
 * the rest, so its output is byte-identical to printf everywhere.
 */
#ifndef SMG_FLOAT_TEXT_H
#define SMG_FLOAT_TEXT_H

#include <stddef.h>

/* Longest output: "-1.1754943508222875e-38" and the like, plus a NUL. */
#define SMG_FLOAT_TEXT_MAX 32

/* Write "%.17g" of (double)f and a NUL into dst; returns the length. */
size_t smg_float_text17(float f, char *dst);

#endif
