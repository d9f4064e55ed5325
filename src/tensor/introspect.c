/* Read-only questions about a handle. They never fail on a valid tensor; a NULL tensor
 * gets a neutral answer (0, NULL, -1) rather than a crash. */
#include "src/tensor/tensor_internal.h"

int nnf_tensor_ndim(const nnf_tensor *t)
{
    return t != NULL ? t->ndim : 0;
}

const int64_t *nnf_tensor_shape(const nnf_tensor *t)
{
    return t != NULL ? t->shape : NULL;
}

const int64_t *nnf_tensor_strides(const nnf_tensor *t)
{
    return t != NULL ? t->stride : NULL;
}

int64_t nnf_tensor_size(const nnf_tensor *t, int dim)
{
    if (t == NULL || dim < -t->ndim || dim >= t->ndim)
        return -1;
    return t->shape[dim < 0 ? dim + t->ndim : dim];
}

int64_t nnf_tensor_numel(const nnf_tensor *t)
{
    if (t == NULL)
        return 0;
    int64_t n = 1;
    /* An empty tensor's other sizes may multiply past int64: look for the 0 first. */
    for (int i = 0; i < t->ndim; i++)
        if (t->shape[i] == 0)
            return 0;
    for (int i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

nnf_dtype nnf_tensor_dtype(const nnf_tensor *t)
{
    return t != NULL ? t->dtype : NNF_F32;
}

int64_t nnf_tensor_offset(const nnf_tensor *t)
{
    return t != NULL ? t->offset : 0;
}

int64_t nnf_tensor_storage_numel(const nnf_tensor *t)
{
    if (t == NULL)
        return 0;
    return (int64_t)(t->storage->nbytes / nnf__dtype_size(t->dtype));
}

/* PyTorch's rule: size-1 dims may have any stride, and an empty tensor is contiguous. */
int nnf_tensor_is_contiguous(const nnf_tensor *t)
{
    if (t == NULL)
        return 0;
    if (nnf_tensor_numel(t) == 0)
        return 1;
    /* Non-empty: the running product stays within numel, which fits int64. */
    int64_t expected = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->stride[i] != expected)
            return 0;
        expected *= t->shape[i];
    }
    return 1;
}

int nnf_tensor_shares_storage(const nnf_tensor *a, const nnf_tensor *b)
{
    return a != NULL && b != NULL && a->storage == b->storage;
}

/* A writable pointer counts as a write when it is handed out: whatever the caller does
 * with it happens after the count moved. */
float *nnf_tensor_data(const nnf_tensor *t)
{
    if (t == NULL || t->dtype != NNF_F32)
        return NULL;
    nnf__tensor_written(t);
    return (float *)nnf__tensor_bytes(t);
}

const float *nnf_tensor_const_data(const nnf_tensor *t)
{
    if (t == NULL || t->dtype != NNF_F32)
        return NULL;
    return (const float *)nnf__tensor_bytes(t);
}

void *nnf_tensor_raw(const nnf_tensor *t)
{
    if (t == NULL)
        return NULL;
    nnf__tensor_written(t);
    return nnf__tensor_bytes(t);
}

uint64_t nnf_tensor_version(const nnf_tensor *t)
{
    return t != NULL ? (uint64_t)atomic_load_explicit(&t->storage->version,
                                                      memory_order_acquire)
                     : 0;
}

void nnf_tensor_mark_modified(nnf_tensor *t)
{
    if (t != NULL)
        nnf__tensor_written(t);
}
