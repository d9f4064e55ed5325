/* zlib's memory from nnf__alloc, so that allocation-failure tests reach zlib's
 * allocations too and nnf__alloc_live counts them (the zip reader's inflate, the IDX
 * reader's gunzip). Set a z_stream's zalloc / zfree to these before inflateInit2. */
#ifndef NNF_CORE_ZLIB_ALLOC_H
#define NNF_CORE_ZLIB_ALLOC_H

#include <zlib.h>

voidpf nnf__zlib_alloc(voidpf opaque, uInt items, uInt size);
void nnf__zlib_free(voidpf opaque, voidpf address);

#endif
