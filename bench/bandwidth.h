// Memory-bound loops that give the other half of a roofline beside fma_peak.h: a plain
// read (the ceiling for anything that must read its operand once, such as x @ W^T at
// batch 1 reading W), and STREAM's copy and triad. Each runs the widest vectors the CPU
// has (a 256-bit read measured ~40% slower from memory than 512-bit on AVX-512 CPUs of
// this kind); any n and alignment.
#ifndef NNF_BENCH_BANDWIDTH_H
#define NNF_BENCH_BANDWIDTH_H

#include <cstddef>
#include <cstdint>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

extern "C" {
#include "nnf/nnf.h"
}

namespace nnf_bench {

namespace bw_detail {

// The float bits as integers: integer adds have no FP semantics to keep, so the compiler
// vectorises this loop freely.
__attribute__((always_inline)) inline uint64_t read_portable(const float *p, size_t n)
{
    const uint32_t *q = reinterpret_cast<const uint32_t *>(p);
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += q[i];
        s1 += q[i + 1];
        s2 += q[i + 2];
        s3 += q[i + 3];
    }
    for (; i < n; i++)
        s0 += q[i];
    return s0 + s1 + s2 + s3;
}

__attribute__((always_inline)) inline void copy_portable(float *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}

__attribute__((always_inline)) inline void triad_portable(float *a, const float *b, const float *c, float s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = b[i] + s * c[i];
}

#if defined(__x86_64__)
// Integer adds (1-cycle latency) into 4 accumulators keep two loads a cycle busy.
__attribute__((target("avx512f"))) inline uint64_t read512(const float *p, size_t n)
{
    __m512i s[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(),
                    _mm512_setzero_si512()};
    size_t i = 0;
    for (; i + 64 <= n; i += 64)
        for (int j = 0; j < 4; j++)
            s[j] = _mm512_add_epi64(s[j], _mm512_loadu_si512(p + i + 16 * j));
    // Stored and added by hand: gcc 12's _mm512_reduce_add_epi64 trips -Wuninitialized.
    alignas(64) uint64_t lanes[8];
    _mm512_store_si512(lanes, _mm512_add_epi64(_mm512_add_epi64(s[0], s[1]),
                                               _mm512_add_epi64(s[2], s[3])));
    uint64_t sum = read_portable(p + i, n - i);
    for (uint64_t v : lanes)
        sum += v;
    return sum;
}

__attribute__((target("avx512f"))) inline void copy512(float *dst, const float *src, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, _mm512_loadu_ps(src + i));
    copy_portable(dst + i, src + i, n - i);
}

__attribute__((target("avx512f"))) inline void triad512(float *a, const float *b,
                                                        const float *c, float s, size_t n)
{
    const __m512 sv = _mm512_set1_ps(s);
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(a + i, _mm512_add_ps(_mm512_loadu_ps(b + i),
                                              _mm512_mul_ps(sv, _mm512_loadu_ps(c + i))));
    triad_portable(a + i, b + i, c + i, s, n - i);
}

// The portable loops inlined into AVX2 functions: the compiler vectorises them with
// 256-bit vectors there.
__attribute__((target("avx2"))) inline uint64_t read256(const float *p, size_t n)
{
    return read_portable(p, n);
}

__attribute__((target("avx2"))) inline void copy256(float *dst, const float *src, size_t n)
{
    copy_portable(dst, src, n);
}

__attribute__((target("avx2"))) inline void triad256(float *a, const float *b, const float *c,
                                                     float s, size_t n)
{
    triad_portable(a, b, c, s, n);
}
#endif

// 2: 512-bit, 1: 256-bit, 0: portable C.
inline int width()
{
    static const int w = nnf_isa_supported(NNF_ISA_AVX512) ? 2 : nnf_isa_supported(NNF_ISA_AVX2) ? 1 : 0;
    return w;
}

}  // namespace bw_detail

// Reads n floats (4n bytes); the sum is only there to be consumed.
inline uint64_t read_floats(const float *p, size_t n)
{
#if defined(__x86_64__)
    switch (bw_detail::width()) {
    case 2: return bw_detail::read512(p, n);
    case 1: return bw_detail::read256(p, n);
    }
#endif
    return bw_detail::read_portable(p, n);
}

// STREAM copy dst[i] = src[i]: 8n bytes as STREAM counts them.
inline void stream_copy(float *dst, const float *src, size_t n)
{
#if defined(__x86_64__)
    switch (bw_detail::width()) {
    case 2: return bw_detail::copy512(dst, src, n);
    case 1: return bw_detail::copy256(dst, src, n);
    }
#endif
    bw_detail::copy_portable(dst, src, n);
}

// STREAM triad a[i] = b[i] + s c[i]: 12n bytes.
inline void stream_triad(float *a, const float *b, const float *c, float s, size_t n)
{
#if defined(__x86_64__)
    switch (bw_detail::width()) {
    case 2: return bw_detail::triad512(a, b, c, s, n);
    case 1: return bw_detail::triad256(a, b, c, s, n);
    }
#endif
    bw_detail::triad_portable(a, b, c, s, n);
}

}  // namespace nnf_bench

#endif
