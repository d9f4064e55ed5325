/* 16x16 and 8x16 transposes in zmm registers for the AVX-512 transpose packing (the
 * in-lane 4x4 transpose also serves the dots kernels' transposes on the way in). Each
 * register is loaded as four 128-bit pieces, e.g. of rows r, r+4, r+8 and r+12 (masked
 * broadcasts from memory), which does the two cross-lane shuffle stages on the load
 * ports; the in-lane 4x4 transposes then cost 8 shuffles per 64 floats, as in the AVX2
 * 8x8 transpose. Hot in the caches, a 384 x 384 block of the packing took 24300 ticks
 * with vinsertf32x4 from memory and 23250 so; 16 full rows and 4 shuffle stages took
 * 44700 (best of 300, loaded). Included only by files compiled with kernels/avx512's
 * flags (AVX-512 F and DQ). */
#ifndef NNF_KERNELS_AVX512_SGEMM_TRANSPOSE16X16_H
#define NNF_KERNELS_AVX512_SGEMM_TRANSPOSE16X16_H

#include <immintrin.h>
#include <stddef.h>

/* The four 128-bit pieces at a, b, c, d as the lanes of one register. */
static inline __attribute__((always_inline)) __m512
nnf__load4x128_avx512(const float *a, const float *b, const float *c, const float *d)
{
    __m512 v = _mm512_castps128_ps512(_mm_loadu_ps(a));
    v = _mm512_mask_broadcast_f32x4(v, 0x00F0, _mm_loadu_ps(b));
    v = _mm512_mask_broadcast_f32x4(v, 0x0F00, _mm_loadu_ps(c));
    return _mm512_mask_broadcast_f32x4(v, 0xF000, _mm_loadu_ps(d));
}

/* col[q] lane L = (t0, t1, t2, t3 lane L)[q]: a 4x4 transpose in every lane. */
static inline __attribute__((always_inline)) void
nnf__transpose4x4_lanes_avx512(__m512 t0, __m512 t1, __m512 t2, __m512 t3, __m512 col[4])
{
    __m512 u0 = _mm512_unpacklo_ps(t0, t1), u1 = _mm512_unpackhi_ps(t0, t1);
    __m512 u2 = _mm512_unpacklo_ps(t2, t3), u3 = _mm512_unpackhi_ps(t2, t3);
    col[0] = _mm512_shuffle_ps(u0, u2, 0x44);
    col[1] = _mm512_shuffle_ps(u0, u2, 0xEE);
    col[2] = _mm512_shuffle_ps(u1, u3, 0x44);
    col[3] = _mm512_shuffle_ps(u1, u3, 0xEE);
}

/* out[q*ldo + r] = src[r*ld + q] for r < rows (16, or 8 for an 8-row A panel), q < 16.
 * Lanes 0-1 of a result hold rows 0-7 at a step; lanes 2-3 rows 8-15 at the same step
 * (one 512-bit store), or with 8 rows rows 0-7 four steps on (two 256-bit stores). */
static inline __attribute__((always_inline)) void
nnf__transpose16_avx512(const float *src, size_t ld, float *out, size_t ldo, size_t rows)
{
    const size_t hi = rows == 16 ? 8 * ld : 4, step = rows == 16 ? 4 : 8;
    for (size_t off = 0; off < 16; off += step) {
        __m512 t[4], col[4];
        for (size_t r = 0; r < 4; r++) {
            const float *s = src + r * ld + off;
            t[r] = nnf__load4x128_avx512(s, s + 4 * ld, s + hi, s + hi + 4 * ld);
        }
        nnf__transpose4x4_lanes_avx512(t[0], t[1], t[2], t[3], col);
        for (size_t q = 0; q < 4; q++)
            if (rows == 16) {
                _mm512_storeu_ps(out + (off + q) * ldo, col[q]);
            } else {
                _mm256_storeu_ps(out + (off + q) * ldo, _mm512_castps512_ps256(col[q]));
                _mm256_storeu_ps(out + (off + q + 4) * ldo, _mm512_extractf32x8_ps(col[q], 1));
            }
    }
}

#endif
