/* The elementwise iteration engine: broadcasting, output checks, dim coalescing, the
 * walk over the outer dims and the threading, for every elementwise op. An op only
 * says which span kernel to run on which operands; kernels see (n, pointers, strides).
 */
#ifndef NNF_OPS_ELTWISE_ITER_H
#define NNF_OPS_ELTWISE_ITER_H

#include "kernels/eltwise.h"
#include "src/tensor/tensor_internal.h"

/* Inputs of one op: up to three (the output is the fourth operand). */
#define NNF__ELT_MAX_IN 3

/* One input as the engine sees it: a tensor, or a float on the caller's stack. */
typedef struct nnf__elt_in {
    nnf_dtype dtype;
    int ndim;
    const int64_t *shape, *stride;   /* stride in elements */
    const char *data;                /* element [0,...,0] */
    const nnf__storage *storage;     /* NULL for a stack scalar: never overlaps */
} nnf__elt_in;

/* The operand for tensor t (which must not be NULL). */
nnf__elt_in nnf__elt_tensor(const nnf_tensor *t);
/* NNF_ERR_NULL / NNF_ERR_DTYPE unless t is a float32 tensor; `arg` names it ("a"). */
nnf_status nnf__elt_check_f32(const char *name, const char *arg, const nnf_tensor *t);
/* A 0-d float operand reading *value. */
nnf__elt_in nnf__elt_scalar(const float *value);

typedef enum {
    NNF__ELT_UNARY,     /* f32 -> f32: fn.unary(x) */
    NNF__ELT_BINARY,    /* f32, f32 -> f32: fn.binary(a, b) */
    NNF__ELT_COMPARE,   /* f32, f32 -> bool: fn.compare(a, b) */
    NNF__ELT_CLAMP,     /* f32 -> f32: fn.clamp(x, lo, hi) */
    NNF__ELT_SELECT,    /* bool, f32, f32 -> f32: fn.select(c, a, b) */
    NNF__ELT_TERNARY,   /* f32, f32, f32 -> f32: fn.ternary(x, a, b) */
    NNF__ELT_CONVERT    /* any dtype -> any dtype, ISA-free (bool and int64 have no kernels) */
} nnf__elt_kind;

typedef struct nnf__elt_op {
    const char *name;       /* the public function, for messages: "nnf_add" */
    nnf__elt_kind kind;
    union {
        nnf__unary_kernel unary;
        nnf__binary_kernel binary;
        nnf__compare_kernel compare;
        nnf__clamp_kernel clamp;
        nnf__select_kernel select;
        nnf__ternary_kernel ternary;
    } fn;
    float lo, hi;           /* NNF__ELT_CLAMP's bounds */
    /* Relative cost per element: threads start at NNF__ELT_PARALLEL_WORK / cost. */
    int cost;
} nnf__elt_op;

/* Costs per element. bench_eltwise BM_cost, 4096 floats in L1, CPU time per element on
 * AVX2 / AVX-512: add 0.21 / 0.21 ns, exp 1.3 / 0.68, sigmoid 1.5 / 0.73, tanh 4.7 / 3.3,
 * pow 9.0 / 5.1. One figure for all SLEEF ops keeps the threshold simple; 10 is the
 * middle of that range. */
#define NNF__ELT_COST_ARITH 1
#define NNF__ELT_COST_SLEEF 10

/* Broadcasts the inputs' shapes by numpy rules into (*ndim, shape), failing with
 * PyTorch's message ("The size of tensor a (2) must match the size of tensor b (3) at
 * non-singleton dimension 1"). */
nnf_status nnf__elt_broadcast(int nin, const nnf__elt_in *in, int *ndim, int64_t *shape);

/* *out = op(in...) of dtype out_dtype with the inputs broadcast together, following
 * include/nnf/ops.h's output convention (new tensor, caller's tensor of exactly that
 * shape and dtype, or in place). */
nnf_status nnf__elt_apply(const nnf__elt_op *op, nnf_tensor **out, nnf_dtype out_dtype, int nin,
                          const nnf__elt_in *in);

/* dst = op(in...) with the inputs broadcast to dst's shape (which must be the result of
 * broadcasting dst's shape with theirs, as torch's copy_). */
nnf_status nnf__elt_apply_into(const nnf__elt_op *op, nnf_tensor *dst, int nin,
                               const nnf__elt_in *in);

/* The active ISA's elementwise kernels, and its SLEEF-based ones. */
const nnf__eltwise_kernels *nnf__elt_kernels(void);
const nnf__sleef_kernels *nnf__elt_sleef_kernels(void);

#endif
