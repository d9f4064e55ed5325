/* See zlib_alloc.h. nnf__dealloc wants the size back: it is kept in the first of 64
 * bytes in front of the block, which keeps the block 64-byte aligned. */
#include "src/core/zlib_alloc.h"

#include <stdint.h>
#include <string.h>

#include "src/core/alloc.h"

#define ZLIB_HEADER 64

voidpf nnf__zlib_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    if (size != 0 && items > (SIZE_MAX - ZLIB_HEADER) / size)
        return Z_NULL;
    size_t n = (size_t)items * size + ZLIB_HEADER;
    unsigned char *p = nnf__alloc(n);
    if (p == NULL)
        return Z_NULL;
    memcpy(p, &n, sizeof n);
    return p + ZLIB_HEADER;
}

void nnf__zlib_free(voidpf opaque, voidpf address)
{
    (void)opaque;
    if (address == NULL)
        return;
    unsigned char *p = (unsigned char *)address - ZLIB_HEADER;
    size_t n;
    memcpy(&n, p, sizeof n);
    nnf__dealloc(p, n);
}
