/* Span kernels for elementwise ops: the contract between src/ops and kernels/<isa>/.
 *
 * A span is n elements addressed as p[i * inc] for i in [0, n); every `inc` is in
 * ELEMENTS (floats, or bytes for the uint8_t results of comparisons) and may be
 * 1 (contiguous: the vector path), 0 (one value broadcast along the span: the vector
 * path with the value splatted once) or anything else (the strided path, which
 * gathers into vector registers so it computes exactly what the vector path does).
 * The output is never stride 0 and never partially overlaps an input; it may BE an
 * input (same pointer, same inc: in place). n may be 0.
 *
 * Every kernel gives the same bits on every ISA (src/ops promises it): the arithmetic
 * ones because each element is one IEEE operation or an exact select, the SLEEF ones
 * because SLEEF's FMA-based u10 functions agree bitwise across scalar (purecfma),
 * AVX2, AVX-512 and AdvSIMD.
 *
 * THE NaN RULE: x86 and Arm make different default NaNs, and which input NaN an
 * instruction propagates depends on an operand order C cannot pin down, so every NaN
 * an arithmetic kernel stores (add sub mul div sqrt maximum minimum sub_div and the
 * SLEEF ops) is the canonical quiet NaN 0x7FC00000 (NNF__ARITH in generic/span.h: one
 * compare and blend per vector). copy, select, and the sign and select ops neg, abs,
 * relu, clamp and relu_backward move bits unchanged (NNF__BITS), payloads included.
 * Reductions' results follow the same rule (nnf__red_result, kernels/reduce.h).
 *
 * Exact definitions, which the scalar kernels spell out in C:
 *   maximum(a, b) = a + b if either is NaN (propagates a NaN, as torch.maximum),
 *                   else the larger, with -0 < +0 (IEEE 754-2019 maximum)
 *   minimum       likewise, the smaller
 *   relu(x)       = x < 0 ? +0 : x            (NaN and -0 pass through, as torch.relu)
 *   clamp(x,lo,hi)= t = x < lo ? lo : x; t > hi ? hi : t   (lo > hi gives hi, as torch)
 *   select(c,a,b) = c ? a : b                  (bits copied, NaN payloads included)
 *   sub_div(x,a,b)= (x - a) / b                 (two roundings, as sub then div)
 *   sub_mul(x,a,b)= x - a * b                   (two roundings, as mul then sub)
 *   relu_backward(x, g) = x <= 0 ? +0 : g      (a NaN x passes g, as torch's
 *                                               threshold_backward; g's bits copied)
 *   sigmoid(x)    = 1 / (1 + exp(-x))          with SLEEF's exp
 *   pow(a, b)     = SLEEF's powf u10: C99 powf's special cases, error <= 1 ulp
 */
#ifndef NNF_KERNELS_ELTWISE_H
#define NNF_KERNELS_ELTWISE_H

#include <stddef.h>
#include <stdint.h>

typedef void (*nnf__unary_kernel)(size_t n, const float *x, ptrdiff_t incx, float *y,
                                  ptrdiff_t incy);
typedef void (*nnf__binary_kernel)(size_t n, const float *a, ptrdiff_t inca, const float *b,
                                   ptrdiff_t incb, float *y, ptrdiff_t incy);
/* y[i] = a[i] OP b[i] ? 1 : 0 (IEEE comparisons: NaN compares false except for ne). */
typedef void (*nnf__compare_kernel)(size_t n, const float *a, ptrdiff_t inca, const float *b,
                                    ptrdiff_t incb, uint8_t *y, ptrdiff_t incy);
/* y[i] = c[i] ? a[i] : b[i], an exact select (torch.where); c holds 0/1 bytes. */
typedef void (*nnf__select_kernel)(size_t n, const uint8_t *c, ptrdiff_t incc, const float *a,
                                   ptrdiff_t inca, const float *b, ptrdiff_t incb, float *y,
                                   ptrdiff_t incy);
/* y[i] = f(x[i], a[i], b[i]) (sub_div). */
typedef void (*nnf__ternary_kernel)(size_t n, const float *x, ptrdiff_t incx, const float *a,
                                    ptrdiff_t inca, const float *b, ptrdiff_t incb, float *y,
                                    ptrdiff_t incy);
typedef void (*nnf__clamp_kernel)(size_t n, const float *x, ptrdiff_t incx, float *y,
                                  ptrdiff_t incy, float lo, float hi);
/* In place on a rows x cols block whose rows are ldc floats apart. */
typedef void (*nnf__rows_kernel)(size_t rows, size_t cols, float *c, size_t ldc);
/* Each row of that block becomes x (cols floats, incx apart). */
typedef void (*nnf__copy_rows_kernel)(size_t rows, size_t cols, const float *x, ptrdiff_t incx,
                                      float *c, size_t ldc);

/* The ops built on SLEEF's transcendental functions. */
typedef struct nnf__sleef_kernels {
    nnf__unary_kernel exp, log, tanh, sigmoid;
    nnf__binary_kernel pow;
} nnf__sleef_kernels;

typedef struct nnf__eltwise_kernels {
    nnf__unary_kernel copy;   /* incx 0 is fill */
    nnf__binary_kernel add, sub, mul, div, maximum, minimum;
    nnf__compare_kernel lt, le, gt, ge, eq, ne;
    nnf__unary_kernel neg, abs, sqrt, relu;
    nnf__clamp_kernel clamp;
    nnf__select_kernel select;
    nnf__ternary_kernel sub_div;         /* the normalisation (x - mean) / std */
    nnf__ternary_kernel sub_mul;         /* SGD's p - g * lr */
    nnf__binary_kernel relu_backward;    /* (x, grad) */
    nnf__rows_kernel relu_rows;          /* relu on a tile of C (sgemm's post-op) */
    nnf__copy_rows_kernel copy_rows;     /* a bias row into a tile of C (the same) */
    nnf__sleef_kernels sleef;
} nnf__eltwise_kernels;

/* The kernels of each ISA, named nnf__f32_v<op>__<isa> (XNNPACK's scheme) and written
 * once in kernels/generic/f32_v<op>.c, or in the file of the family they belong to:
 * f32_varith.c (add sub mul div sqrt), f32_vminmax.c, f32_vcompare.c (lt ... ne),
 * f32_vsign.c (neg abs), f32_vrelu.c (relu and its backward), f32_vsleef.c (exp log tanh
 * sigmoid pow). Each ISA declares its set in kernels/<isa>/kernels.h with the macros
 * below. */
#define NNF__DECLARE_UNARY(op, isa) \
    void nnf__f32_v##op##__##isa(size_t, const float *, ptrdiff_t, float *, ptrdiff_t);
#define NNF__DECLARE_BINARY(op, isa)                                                  \
    void nnf__f32_v##op##__##isa(size_t, const float *, ptrdiff_t, const float *,     \
                                 ptrdiff_t, float *, ptrdiff_t);
#define NNF__DECLARE_COMPARE(op, isa)                                                 \
    void nnf__f32_v##op##__##isa(size_t, const float *, ptrdiff_t, const float *,     \
                                 ptrdiff_t, uint8_t *, ptrdiff_t);
#define NNF__DECLARE_SLEEF_KERNELS(isa)                                               \
    NNF__DECLARE_UNARY(exp, isa) NNF__DECLARE_UNARY(log, isa)                         \
    NNF__DECLARE_UNARY(tanh, isa) NNF__DECLARE_UNARY(sigmoid, isa)                    \
    NNF__DECLARE_BINARY(pow, isa)
#define NNF__DECLARE_ELTWISE_KERNELS(isa)                                             \
    NNF__DECLARE_UNARY(copy, isa) NNF__DECLARE_UNARY(neg, isa)                        \
    NNF__DECLARE_UNARY(abs, isa) NNF__DECLARE_UNARY(sqrt, isa)                        \
    NNF__DECLARE_UNARY(relu, isa)                                                     \
    void nnf__f32_vrelu_rows__##isa(size_t, size_t, float *, size_t);                 \
    void nnf__f32_vcopy_rows__##isa(size_t, size_t, const float *, ptrdiff_t, float *,\
                                    size_t);                                          \
    void nnf__f32_vclamp__##isa(size_t, const float *, ptrdiff_t, float *, ptrdiff_t, \
                                float, float);                                        \
    void nnf__f32_vselect__##isa(size_t, const uint8_t *, ptrdiff_t, const float *,   \
                                 ptrdiff_t, const float *, ptrdiff_t, float *,        \
                                 ptrdiff_t);                                          \
    NNF__DECLARE_BINARY(add, isa) NNF__DECLARE_BINARY(sub, isa)                       \
    NNF__DECLARE_BINARY(mul, isa) NNF__DECLARE_BINARY(div, isa)                       \
    NNF__DECLARE_BINARY(maximum, isa) NNF__DECLARE_BINARY(minimum, isa)               \
    NNF__DECLARE_BINARY(relu_backward, isa)                                           \
    void nnf__f32_vsub_div__##isa(size_t, const float *, ptrdiff_t, const float *,    \
                                  ptrdiff_t, const float *, ptrdiff_t, float *,       \
                                  ptrdiff_t);                                         \
    void nnf__f32_vsub_mul__##isa(size_t, const float *, ptrdiff_t, const float *,    \
                                  ptrdiff_t, const float *, ptrdiff_t, float *,       \
                                  ptrdiff_t);                                         \
    NNF__DECLARE_COMPARE(lt, isa) NNF__DECLARE_COMPARE(le, isa)                       \
    NNF__DECLARE_COMPARE(gt, isa) NNF__DECLARE_COMPARE(ge, isa)                       \
    NNF__DECLARE_COMPARE(eq, isa) NNF__DECLARE_COMPARE(ne, isa)                       \
    NNF__DECLARE_SLEEF_KERNELS(isa)

/* The table entries for one ISA (used by dispatch/table_<isa>.c). */
#define NNF__ELTWISE_SLEEF_KERNELS(isa)                                               \
    { .exp = nnf__f32_vexp__##isa, .log = nnf__f32_vlog__##isa,                       \
      .tanh = nnf__f32_vtanh__##isa, .sigmoid = nnf__f32_vsigmoid__##isa,             \
      .pow = nnf__f32_vpow__##isa }
#define NNF__ELTWISE_KERNELS_COMMON(isa)                                              \
    .copy = nnf__f32_vcopy__##isa,                                                    \
    .add = nnf__f32_vadd__##isa, .sub = nnf__f32_vsub__##isa,                         \
    .mul = nnf__f32_vmul__##isa, .div = nnf__f32_vdiv__##isa,                         \
    .maximum = nnf__f32_vmaximum__##isa, .minimum = nnf__f32_vminimum__##isa,         \
    .lt = nnf__f32_vlt__##isa, .le = nnf__f32_vle__##isa, .gt = nnf__f32_vgt__##isa,  \
    .ge = nnf__f32_vge__##isa, .eq = nnf__f32_veq__##isa, .ne = nnf__f32_vne__##isa,  \
    .neg = nnf__f32_vneg__##isa, .abs = nnf__f32_vabs__##isa,                         \
    .sqrt = nnf__f32_vsqrt__##isa, .relu = nnf__f32_vrelu__##isa,                     \
    .clamp = nnf__f32_vclamp__##isa, .select = nnf__f32_vselect__##isa,               \
    .sub_div = nnf__f32_vsub_div__##isa, .sub_mul = nnf__f32_vsub_mul__##isa,           \
    .relu_backward = nnf__f32_vrelu_backward__##isa,                                  \
    .relu_rows = nnf__f32_vrelu_rows__##isa, .copy_rows = nnf__f32_vcopy_rows__##isa

#endif
