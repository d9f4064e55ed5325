/* A 16x16 transpose in zmm registers for the AVX-512 transpose packing. Each register
 * is loaded as four 128-bit pieces of rows r, r+4, r+8 and r+12 (masked broadcasts
 * from memory), which does the two cross-lane shuffle stages on the load ports; the
 * in-lane 4x4 transposes then cost 8 shuffles per 64 floats, as in the AVX2 8x8
 * transpose. From the L1/L2 a 384 x 384 block of the packing took 24300 ticks with
 * vinsertf32x4 from memory and 23250 so; 16 full rows and 4 shuffle stages took 44700
 * (best of 300, loaded).
 * Included only by files compiled with -mavx512f. */
#ifndef NNF_KERNELS_AVX512_SGEMM_TRANSPOSE16X16_H
#define NNF_KERNELS_AVX512_SGEMM_TRANSPOSE16X16_H

#include <immintrin.h>
#include <stddef.h>

/* out[q*ldo + r] = src[r*ld + q] for r, q < 16. */
static inline __attribute__((always_inline)) void
nnf__transpose16x16_avx512(const float *src, size_t ld, float *out, size_t ldo)
{
#define NNF_ROWS_(r, off)                                                                 \
    _mm512_mask_broadcast_f32x4(                                                          \
        _mm512_mask_broadcast_f32x4(                                                      \
            _mm512_mask_broadcast_f32x4(                                                  \
                _mm512_castps128_ps512(_mm_loadu_ps(src + (r) * ld + (off))), 0x00F0,     \
                _mm_loadu_ps(src + ((r) + 4) * ld + (off))),                              \
            0x0F00, _mm_loadu_ps(src + ((r) + 8) * ld + (off))),                          \
        0xF000, _mm_loadu_ps(src + ((r) + 12) * ld + (off)))
    for (size_t off = 0; off < 16; off += 4) {
        __m512 t0 = NNF_ROWS_(0, off), t1 = NNF_ROWS_(1, off);
        __m512 t2 = NNF_ROWS_(2, off), t3 = NNF_ROWS_(3, off);
        __m512 u0 = _mm512_unpacklo_ps(t0, t1), u1 = _mm512_unpackhi_ps(t0, t1);
        __m512 u2 = _mm512_unpacklo_ps(t2, t3), u3 = _mm512_unpackhi_ps(t2, t3);
        _mm512_storeu_ps(out + (off + 0) * ldo, _mm512_shuffle_ps(u0, u2, 0x44));
        _mm512_storeu_ps(out + (off + 1) * ldo, _mm512_shuffle_ps(u0, u2, 0xEE));
        _mm512_storeu_ps(out + (off + 2) * ldo, _mm512_shuffle_ps(u1, u3, 0x44));
        _mm512_storeu_ps(out + (off + 3) * ldo, _mm512_shuffle_ps(u1, u3, 0xEE));
    }
#undef NNF_ROWS_
}

#endif
