/* The random stream: xoshiro128** (Blackman and Vigna), seeded through splitmix64.
 * Only integer arithmetic decides the stream, so a seed gives the same uniforms on every
 * platform. Normals use Box-Muller in double; glibc's double log/cos/sin are within one
 * ulp on x86-64 and aarch64, so after rounding to float the values agree everywhere
 * (a disagreement would need a double result within 1 ulp of a float rounding boundary:
 * odds about 2^-28 per value; test_tensor_rng checks the first values on both). */
#include "src/tensor/tensor_internal.h"

#include <math.h>

#include "src/core/error.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void nnf_rng_seed(nnf_rng *rng, uint64_t seed)
{
    if (rng == NULL)
        return;
    uint64_t x = seed;
    uint64_t a = splitmix64(&x), b = splitmix64(&x);
    rng->s[0] = (uint32_t)a;
    rng->s[1] = (uint32_t)(a >> 32);
    rng->s[2] = (uint32_t)b;
    rng->s[3] = (uint32_t)(b >> 32);
}

static uint32_t rotl(uint32_t x, int k)
{
    return (x << k) | (x >> (32 - k));
}

static uint32_t next(nnf_rng *rng)
{
    uint32_t *s = rng->s;
    uint32_t result = rotl(s[1] * 5, 7) * 9;
    uint32_t t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
}

/* The top 24 bits: every float in [0, 1) that is a multiple of 2^-24, equally likely. */
static float uniform(nnf_rng *rng)
{
    return (float)(next(rng) >> 8) * 0x1p-24f;
}

static nnf_rng default_rng;
static int default_seeded;

void nnf_manual_seed(uint64_t seed)
{
    nnf_rng_seed(&default_rng, seed);
    default_seeded = 1;
}

static nnf_rng *resolve(nnf_rng *rng)
{
    if (rng != NULL)
        return rng;
    if (!default_seeded)
        nnf_manual_seed(0);
    return &default_rng;
}

nnf_status nnf_rand(nnf_tensor **out, nnf_rng *rng, int ndim, const int64_t *shape)
{
    NNF_PUBLIC("nnf_rand");
    nnf_tensor *t;
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "out is NULL");
    NNF_FORWARD(nnf__tensor_create(&t, ndim, shape, NNF_F32, 0));
    rng = resolve(rng);
    float *p = nnf_tensor_data(t);
    int64_t n = nnf_tensor_numel(t);
    for (int64_t i = 0; i < n; i++)
        p[i] = uniform(rng);
    *out = t;
    return NNF_OK;
}

/* Elements 2k and 2k+1 are the cosine and sine halves of one Box-Muller pair, from
 * uniforms u1 then u2 drawn in that order; an odd last element uses the cosine half
 * of a fresh pair. 1 - u1 lies in (0, 1], so the log is finite. */
nnf_status nnf_randn(nnf_tensor **out, nnf_rng *rng, int ndim, const int64_t *shape)
{
    NNF_PUBLIC("nnf_randn");
    nnf_tensor *t;
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "out is NULL");
    NNF_FORWARD(nnf__tensor_create(&t, ndim, shape, NNF_F32, 0));
    rng = resolve(rng);
    float *p = nnf_tensor_data(t);
    int64_t n = nnf_tensor_numel(t);
    const double two_pi = 6.283185307179586476925286766559;
    for (int64_t i = 0; i < n; i += 2) {
        double u1 = 1.0 - (double)uniform(rng);
        double u2 = (double)uniform(rng);
        double r = sqrt(-2.0 * log(u1));
        p[i] = (float)(r * cos(two_pi * u2));
        if (i + 1 < n)
            p[i + 1] = (float)(r * sin(two_pi * u2));
    }
    *out = t;
    return NNF_OK;
}

/* One 64-bit draw: two outputs, the first as the high half. */
static uint64_t next64(nnf_rng *rng)
{
    uint64_t hi = next(rng);
    return hi << 32 | next(rng);
}

/* Draws below 2^64 mod range are redrawn, so the 2^64 - (2^64 mod range) draws kept map
 * onto each value of [0, range) equally often (at most one redraw in 2 for any range,
 * none in practice for ranges far below 2^63: the odds are range / 2^64). */
nnf_status nnf_randint(nnf_tensor **out, nnf_rng *rng, int ndim, const int64_t *shape,
                       int64_t low, int64_t high)
{
    NNF_PUBLIC("nnf_randint");
    nnf_tensor *t;
    NNF_RETURN_IF(out == NULL, NNF_ERR_NULL, "out is NULL");
    NNF_RETURN_IF(low >= high, NNF_ERR_INVALID,
                  "random_ expects 'from' to be less than 'to', but got from=%lld >= to=%lld",
                  (long long)low, (long long)high);
    NNF_FORWARD(nnf__tensor_create(&t, ndim, shape, NNF_I64, 0));
    rng = resolve(rng);
    int64_t *p = nnf_tensor_raw(t);
    int64_t n = nnf_tensor_numel(t);
    uint64_t range = (uint64_t)high - (uint64_t)low;
    uint64_t redraw_below = -range % range;
    for (int64_t i = 0; i < n; i++) {
        uint64_t draw;
        do
            draw = next64(rng);
        while (draw < redraw_below);
        p[i] = (int64_t)((uint64_t)low + draw % range);
    }
    *out = t;
    return NNF_OK;
}
