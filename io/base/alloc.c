/*
 * The replaceable allocator: thin wrappers over the C library with a failure
 * injection countdown for tests. The countdown is atomic so reader threads
 * may allocate while a test has injection armed.
 */
#include "io/base/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_long fail_countdown = -1;

static bool should_fail(void)
{
    long n = atomic_load(&fail_countdown);
    while (n >= 0) {
        if (n == 0)
            return true;
        if (atomic_compare_exchange_weak(&fail_countdown, &n, n - 1))
            return false;
    }
    return false;
}

void *smg_malloc(size_t size)
{
    if (should_fail())
        return NULL;
    return malloc(size == 0 ? 1 : size);
}

void *smg_calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    if (count == 0 || size == 0)
        return calloc(1, 1);
    return calloc(count, size);
}

void *smg_realloc(void *ptr, size_t size)
{
    if (should_fail())
        return NULL;
    return realloc(ptr, size == 0 ? 1 : size);
}

void smg_free(void *ptr)
{
    free(ptr);
}

char *smg_strdup(const char *s)
{
    size_t n;
    char *copy;

    if (s == NULL)
        return NULL;
    n = strlen(s) + 1;
    copy = smg_malloc(n);
    if (copy != NULL)
        memcpy(copy, s, n);
    return copy;
}

void smg_alloc_fail_after(long n)
{
    atomic_store(&fail_countdown, n);
}

void smg_alloc_reset(void)
{
    atomic_store(&fail_countdown, -1);
}

bool smg_mul_size(size_t a, size_t b, size_t *out)
{
    size_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return false;
    *out = r;
    return true;
}

bool smg_add_size(size_t a, size_t b, size_t *out)
{
    size_t r;
    if (__builtin_add_overflow(a, b, &r))
        return false;
    *out = r;
    return true;
}
