/* The einsum equation parser: turns "bik,bkj->bij" (and the operands' ndims) into one
 * label per dim. It sees only the string and the ndims, never tensor data, so it can be
 * fuzzed on its own (tests/test_einsum_fuzz.c).
 *
 * Labels: 'A'..'Z' are 0..25 and 'a'..'z' are 26..51, so sorting labels sorts the
 * letters in ASCII order (PyTorch's order for an implicit output: "bA" gives "Ab").
 * The dims an ellipsis "..." covers get the labels NNF__EINSUM_ELL + j, where j counts
 * the broadcast ellipsis dims (0..ell_ndim-1) and operands' ellipses align at the right,
 * like broadcasting.
 */
#ifndef NNF_LINALG_EINSUM_PARSE_H
#define NNF_LINALG_EINSUM_PARSE_H

#include <stdint.h>
#include "nnf/tensor.h"

enum {
    NNF__EINSUM_LETTERS = 52,
    NNF__EINSUM_ELL = NNF__EINSUM_LETTERS,
    NNF__EINSUM_LABELS = NNF__EINSUM_LETTERS + NNF_MAX_DIMS   /* 60: fits a uint64_t mask */
};

typedef struct nnf__einsum_term {
    int ndim;
    int8_t label[NNF_MAX_DIMS];
} nnf__einsum_term;

typedef struct nnf__einsum_eq {
    int noperands;
    nnf__einsum_term *in;    /* noperands terms, from nnf__alloc */
    nnf__einsum_term out;
    int ell_ndim;            /* broadcast number of dims the ellipses cover */
} nnf__einsum_eq;

/* Parses `spec` for `noperands` operands with the given ndims (each 0..NNF_MAX_DIMS).
 * NNF_ERR_PARSE with PyTorch's message for a malformed equation or a subscript count
 * that does not fit an operand; NNF_ERR_NOMEM. On success free *eq with
 * nnf__einsum_eq_free; on failure nothing needs freeing. */
nnf_status nnf__einsum_parse(nnf__einsum_eq *eq, const char *spec, int noperands,
                             const int *ndims);
void nnf__einsum_eq_free(nnf__einsum_eq *eq);

/* The letter of a label, or '.' for an ellipsis dim (for messages). */
char nnf__einsum_label_char(int label);

#endif
