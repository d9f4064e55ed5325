/* One float32 tensor written as a .npy member of an archive (npy.h): numpy.save's
 * header, then the elements in C order, little-endian whatever the host's byte order.
 * Views are read through their strides, so nothing is copied or allocated. */
#include "src/io/npy.h"

#include <inttypes.h>
#include <string.h>

#include "src/core/error.h"
#include "src/io/strided.h"

/* 16 KiB of elements per fwrite: large enough that stdio's per-call cost vanishes. */
#define CHUNK_FLOATS 4096

nnf_status nnf__npy_write(nnf__zip_writer *w, const char *name, size_t name_len,
                          const nnf_tensor *t)
{
    int ndim = nnf_tensor_ndim(t);
    const int64_t *shape = nnf_tensor_shape(t), *stride = nnf_tensor_strides(t);
    int64_t numel = nnf_tensor_numel(t);
    unsigned char header[NNF__NPY_HEADER_MAX];
    size_t header_len = nnf__npy_format_header(header, ndim, shape);
    /* An expanded view can have more elements than memory: its data must still fit a
     * 64-bit size. */
    if ((uint64_t)numel > (UINT64_MAX - header_len) / 4)
        return nnf__io_fail(w->ctx, NNF_ERR_OVERFLOW,
                            "%" PRId64 " elements are too many bytes for one member", numel);
    NNF_FORWARD(nnf__zip_begin(w, name, name_len, header_len + 4 * (uint64_t)numel));
    NNF_FORWARD(nnf__zip_write(w, header, header_len));
    const float *base = nnf_tensor_const_data(t);
    int64_t index[NNF_MAX_DIMS] = {0}, offset = 0;
    unsigned char buf[4 * CHUNK_FLOATS];
    size_t used = 0;
    for (int64_t k = 0; k < numel; k++) {
        uint32_t u;
        memcpy(&u, &base[offset], 4);
        unsigned char *p = buf + used;
        p[0] = (unsigned char)u;
        p[1] = (unsigned char)(u >> 8);
        p[2] = (unsigned char)(u >> 16);
        p[3] = (unsigned char)(u >> 24);
        used += 4;
        if (used == sizeof buf) {
            NNF_FORWARD(nnf__zip_write(w, buf, used));
            used = 0;
        }
        nnf__strided_next(ndim, shape, stride, index, &offset);
    }
    NNF_FORWARD(nnf__zip_write(w, buf, used));
    return nnf__zip_end(w);
}
