/* What the .npz functions share (npz.c, state_dict.c) and what the tests and the fuzz
 * target reach in: an archive read whole into memory and checked as a zip of .npy
 * members, and writing one. */
#ifndef NNF_IO_NPZ_H
#define NNF_IO_NPZ_H

#include "nnf/weights.h"
#include "src/io/zip.h"

typedef struct {
    const unsigned char *bytes;
    size_t nbytes;
    unsigned char *owned;    /* bytes, when read from a file; freed by close */
    nnf__zip zip;
} nnf__npz_file;

/* Reads the file at `path` whole and parses it as a zip whose every member is named
 * "<key>.npy". */
nnf_status nnf__npz_file_read(nnf__npz_file *f, const char *path, const nnf__io_ctx *ctx);
/* The same over bytes the caller keeps alive until nnf__npz_file_close. */
nnf_status nnf__npz_file_wrap(nnf__npz_file *f, const void *bytes, size_t nbytes,
                              const nnf__io_ctx *ctx);
void nnf__npz_file_close(nnf__npz_file *f);

/* The key of a member: its name without ".npy". */
static inline size_t nnf__npz_key_len(const nnf__zip_member *m)
{
    return m->name_len - 4;
}

/* nnf_npz_load on an archive already open. */
nnf_status nnf__npz_load_file(nnf_npz **out /* OUT */, const nnf__npz_file *f,
                              const nnf__io_ctx *ctx);

/* nnf_npz_save, with every zip field in its zip64 form if force_zip64 is set (for tests:
 * no file here reaches the 4 GiB where nnf writes them by need). */
nnf_status nnf__npz_save(const char *path, int n, const char *const *keys,
                         const nnf_tensor *const *tensors, int force_zip64,
                         const nnf__io_ctx *ctx);

/* nnf_model_load_npz from bytes in memory; `name` stands for the path in messages. */
nnf_status nnf__model_load_npz_bytes(nnf_model *model, const void *bytes, size_t nbytes,
                                     const char *name);

#endif
