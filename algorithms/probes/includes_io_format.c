/*
 * Layering probe, never part of a library: algorithms see the foundation
 * (io/base) but no io format, channel or stream. tests/layering compiles this
 * file against smg_algorithms and passes only when the include below is not
 * found.
 */
#include "io/channel.h"
