/*
 * Layering probe, never part of a library: io never sees the algorithms.
 * tests/layering passes only when the include below is not found.
 */
#include "algorithms/kmeans.h"
