/*
 * Layering probe, never part of a library: io never sees the runtime.
 * tests/layering passes only when the include below is not found.
 */
#include "runtime/job.h"
