/*
 * The one allocator every smalgo library uses.
 *
 * All heap memory goes through smg_malloc/smg_calloc/smg_realloc/smg_free so
 * that tests can make the Nth allocation fail (smg_alloc_fail_after) and check
 * that every failure surfaces as a clean SMG_ENOMEM, never a crash or a leak.
 * Size arithmetic on lengths read from input must use the overflow-checked
 * helpers below before allocating.
 */
#ifndef SMG_ALLOC_H
#define SMG_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

void *smg_malloc(size_t size);
void *smg_calloc(size_t count, size_t size);
void *smg_realloc(void *ptr, size_t size);
void smg_free(void *ptr); /* accepts NULL */

/* Duplicate a NUL-terminated string; NULL on failure or NULL input. */
char *smg_strdup(const char *s);

/*
 * Test hook: after `n` more successful allocations, every allocation fails
 * until smg_alloc_reset(). n < 0 disables injection (the default).
 */
void smg_alloc_fail_after(long n);
void smg_alloc_reset(void);

/* a * b into *out; false (and *out untouched) on overflow. */
bool smg_mul_size(size_t a, size_t b, size_t *out);
/* a + b into *out; false (and *out untouched) on overflow. */
bool smg_add_size(size_t a, size_t b, size_t *out);

#endif
