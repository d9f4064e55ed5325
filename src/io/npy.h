/* numpy's .npy format (numpy/lib/format.py), the members of an .npz archive:
 *
 *     "\x93NUMPY" major minor   header length (uint16 LE in 1.0; uint32 LE in 2.0, 3.0)
 *     header: a Python dict literal, padded with spaces and ended by '\n'
 *             {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 *     data:   the elements, in C order, or in Fortran order if fortran_order is True
 *
 * nnf reads float32 and float64 in either byte order and either element order, and
 * writes what numpy.save writes for a C-order little-endian float32 array, byte for
 * byte (format 1.0, the header padded so the data starts at a multiple of 64). */
#ifndef NNF_IO_NPY_H
#define NNF_IO_NPY_H

#include <stdint.h>

#include "nnf/tensor.h"
#include "src/io/zip.h"

typedef struct {
    int ndim;
    int64_t shape[NNF_MAX_DIMS];
    int64_t numel;
    int fortran_order;
    int itemsize;            /* 4: float32, 8: float64 */
    int big_endian;
} nnf__npy_header;

/* Parses the dict literal of a format `major`.0 header (len bytes, no NUL needed).
 * Errors: NNF_ERR_PARSE (not a dict of the three keys, a bad value), NNF_ERR_DTYPE (a
 * dtype other than float32 / float64), NNF_ERR_UNSUPPORTED (more than NNF_MAX_DIMS
 * dims), NNF_ERR_OVERFLOW (more elements than an int64 byte count can hold). */
nnf_status nnf__npy_parse_header(nnf__npy_header *h, const char *text, size_t len, int major,
                                 const nnf__io_ctx *ctx);

/* The longest header nnf__npy_format_header writes: 8 dims of 19 digits fit twice over. */
#define NNF__NPY_HEADER_MAX 448

/* Writes the magic, version, length and header numpy.save writes for a C-order '<f4'
 * array of this shape into buf; returns its length, a multiple of 64. */
size_t nnf__npy_format_header(unsigned char *buf, int ndim, const int64_t *shape);

/* "[2, 3]" (PyTorch's torch.Size([2, 3]) without the name), cut to fit. */
void nnf__format_shape(char *buf, size_t size, int ndim, const int64_t *shape);

/* ---- A member of an archive read as a float32 tensor ---- */

typedef struct {
    nnf__zip_reader zr;
    nnf__npy_header h;
    const nnf__io_ctx *ctx;
} nnf__npy_reader;

/* Reads and checks the member's .npy prefix and header: afterwards r->h says the shape
 * and the member's size has been checked against it. Close the reader in any case. */
nnf_status nnf__npy_open(nnf__npy_reader *r, const nnf__zip *zip, size_t i,
                         const nnf__io_ctx *ctx);
/* The elements, converted to a new contiguous float32 tensor of r->h's shape:
 * float32 bits unchanged; float64 rounded to nearest, ties to even; a NaN stays a NaN
 * with its sign and the top of its payload; a finite float64 beyond float32's range is
 * NNF_ERR_OVERFLOW. Then the member's end and CRC-32 are checked. */
nnf_status nnf__npy_read_data(nnf__npy_reader *r, nnf_tensor **out /* OUT */);
void nnf__npy_close(nnf__npy_reader *r);

/* Writes `t` (float32, any strides) as member `name` of w. */
nnf_status nnf__npy_write(nnf__zip_writer *w, const char *name, size_t name_len,
                          const nnf_tensor *t);

#endif
