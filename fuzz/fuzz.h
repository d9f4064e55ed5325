/* What every fuzz target shares: a broken property aborts with its reason (libFuzzer then
 * saves the input that broke it), and the input is read as a stream of small decisions
 * that never runs dry (bytes past the end read as 0), so every input is a valid program
 * for the target and libFuzzer's mutations stay meaningful.
 *
 * Values fed to arithmetic are small integers times small powers of two: their products
 * and sums are exact in float as long as they stay below 2^24 in magnitude, so results
 * must EQUAL a double-precision reference whatever order an ISA or a blocking adds them
 * in, and no subnormal or overflow appears by accident (FTZ must not change a bit).
 */
#ifndef NNF_FUZZ_FUZZ_H
#define NNF_FUZZ_FUZZ_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnf/nnf.h"
#include "src/core/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__attribute__((noreturn, format(printf, 1, 2))) static inline void broken(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz property broken: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nnnf_last_error: %s\n", nnf_last_error());
    abort();
}

#define CHECK(cond, ...) do { if (!(cond)) broken(__VA_ARGS__); } while (0)

typedef struct {
    const uint8_t *p;
    size_t n;
} fuzz_in;

static inline uint8_t take8(fuzz_in *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

static inline uint64_t take_u64(fuzz_in *in, int nbytes)
{
    uint64_t v = 0;
    for (int i = 0; i < nbytes; i++)
        v = v << 8 | take8(in);
    return v;
}

/* lo..hi inclusive, hi - lo < 2^16. */
static inline int64_t take_range(fuzz_in *in, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)(hi - lo) + 1;
    return lo + (int64_t)(take_u64(in, span > 256 ? 2 : 1) % span);
}

/* Mostly a small value (-2..9), sometimes one at an edge of int64 or of a 32-bit size:
 * what hostile callers pass to every integer parameter. */
static inline int64_t take_hostile(fuzz_in *in)
{
    static const int64_t edges[] = {INT64_MIN, INT64_MIN + 1, INT64_MAX, INT64_MAX - 1,
                                    INT32_MAX, (int64_t)1 << 31, (int64_t)1 << 32,
                                    (int64_t)1 << 62, -((int64_t)1 << 32), -100, 1000, 65536};
    uint8_t b = take8(in);
    if (b < 224)
        return (int64_t)(b % 12) - 2;
    return edges[(b - 224) % (sizeof edges / sizeof edges[0])];
}

/* A dim argument: mostly -10..9, sometimes an edge of int. */
static inline int take_dim(fuzz_in *in)
{
    static const int edges[] = {INT32_MIN, INT32_MIN + 1, INT32_MAX, NNF_MAX_DIMS, -NNF_MAX_DIMS - 1};
    uint8_t b = take8(in);
    return b < 240 ? (int)(b % 20) - 10 : edges[(b - 240) % 5];
}

/* -8..7 times 2^e, e in -1..2: exact sums and products (see the top). */
static inline float take_value(fuzz_in *in)
{
    uint8_t b = take8(in);
    return (float)((int)(b & 15) - 8) * (float)(1 << (b >> 4 & 3)) / 2.0f;
}

/* The kernels of one ISA this CPU runs, picked by the input: every path gets fuzzed. */
static inline void take_isa(fuzz_in *in)
{
    static const nnf_isa all[] = {NNF_ISA_LIST(NNF_ISA_ITEM)};
    nnf_isa isas[sizeof all / sizeof all[0]];
    int n = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (nnf_isa_supported(all[i]))
            isas[n++] = all[i];
    CHECK(nnf_isa_force(isas[take8(in) % n]) == NNF_OK, "nnf_isa_force");
}

/* Packed row-major copy of t's elements (any view). n is the number of floats at dst. */
static inline void read_floats(float *dst, int64_t n, const nnf_tensor *t)
{
    CHECK(nnf_tensor_numel(t) == n, "numel %lld, expected %lld",
          (long long)nnf_tensor_numel(t), (long long)n);
    CHECK(nnf_copy_to_buffer(dst, (size_t)n * sizeof(float), t) == NNF_OK, "copy_to_buffer");
}

/* Element i (row-major) of t read through its own strides, without nnf's copy code. */
static inline float strided_elem(const nnf_tensor *t, int64_t i)
{
    int64_t pos = 0;
    for (int d = nnf_tensor_ndim(t) - 1; d >= 0; d--) {
        pos += i % nnf_tensor_shape(t)[d] * nnf_tensor_strides(t)[d];
        i /= nnf_tensor_shape(t)[d];
    }
    return nnf_tensor_data(t)[pos];
}

/* Every element t addresses lies inside its storage, strides are non-negative. */
static inline void check_inside_storage(const nnf_tensor *t, const char *what)
{
    if (nnf_tensor_numel(t) == 0)
        return;
    int64_t last = nnf_tensor_offset(t);
    CHECK(last >= 0, "%s: negative offset %lld", what, (long long)last);
    for (int d = 0; d < nnf_tensor_ndim(t); d++) {
        int64_t s = nnf_tensor_strides(t)[d], extent;
        CHECK(s >= 0, "%s: negative stride %lld at dim %d", what, (long long)s, d);
        CHECK(!__builtin_mul_overflow(nnf_tensor_shape(t)[d] - 1, s, &extent) &&
              !__builtin_add_overflow(last, extent, &last),
              "%s: the last element's position overflows at dim %d", what, d);
    }
    CHECK(last < nnf_tensor_storage_numel(t), "%s: element %lld of a storage of %lld", what,
          (long long)last, (long long)nnf_tensor_storage_numel(t));
}

/* A tensor of `shape` (rank <= NNF_MAX_DIMS) holding vals[] (filled from the input),
 * contiguous or, if the input says so, stored with its dims reversed and permuted back
 * (every stride non-unit where it can be). */
static inline nnf_tensor *take_tensor(fuzz_in *in, int nd, const int64_t *shape, float *vals)
{
    int64_t n = 1;
    for (int d = 0; d < nd; d++)
        n *= shape[d];
    for (int64_t i = 0; i < n; i++)
        vals[i] = take_value(in);
    nnf_tensor *t = NULL;
    CHECK(nnf_from_data(&t, vals, nd, shape) == NNF_OK, "from_data");
    if (nd < 2 || take8(in) % 2 == 0)
        return t;
    int64_t rev[NNF_MAX_DIMS];
    int perm[NNF_MAX_DIMS];
    for (int d = 0; d < nd; d++) {
        rev[d] = shape[nd - 1 - d];
        perm[d] = nd - 1 - d;
    }
    nnf_tensor *store = NULL, *view = NULL;
    CHECK(nnf_empty(&store, nd, rev) == NNF_OK && nnf_permute(&view, store, perm) == NNF_OK &&
          nnf_copy(view, t) == NNF_OK, "a transposed tensor");
    nnf_tensor_free(store);
    nnf_tensor_free(t);
    return view;
}

/* Frame of every call: nothing leaks. */
#define LEAK_CHECK_BEGIN long fuzz_live_ = nnf__alloc_live()
#define LEAK_CHECK_END \
    CHECK(nnf__alloc_live() == fuzz_live_, "%ld blocks leaked", nnf__alloc_live() - fuzz_live_)

#endif
