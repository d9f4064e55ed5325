/* The einsum equation grammar (PyTorch's):
 *
 *     equation := term { ',' term } [ '->' term ]
 *     term     := { letter | ' ' } with at most one "..." anywhere in it
 *
 * Without "->" the output is implicit: the ellipsis dims, then every letter that occurs
 * exactly once in the inputs, in ASCII order. Every error is NNF_ERR_PARSE (the fuzz
 * test relies on that) with the byte index or operand that is wrong.
 */
#include "src/linalg/einsum_parse.h"

#include <limits.h>
#include <stdio.h>

#include "src/core/alloc.h"
#include "src/core/error.h"

/* A term as written, before the ellipsis is expanded. nletters counts every letter;
 * only the first NNF_MAX_DIMS are kept, more is always an error (ndim <= NNF_MAX_DIMS). */
typedef struct {
    int nletters;
    int8_t letter[NNF_MAX_DIMS];
    int ell_at;   /* letters written before "...", or -1 without an ellipsis */
} written_term;

static int letter_label(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return 26 + (c - 'a');
    return -1;
}

char nnf__einsum_label_char(int label)
{
    if (label >= 0 && label < 26)
        return (char)('A' + label);
    if (label >= 26 && label < NNF__EINSUM_LETTERS)
        return (char)('a' + label - 26);
    return '.';
}

static int at_arrow(const char *s)
{
    return s[0] == '-' && s[1] == '>';
}

/* "operand 2" or "the output", for messages. */
static const char *term_name(int operand, char *buf, size_t size)
{
    if (operand < 0)
        return "the output";
    snprintf(buf, size, "operand %d", operand);
    return buf;
}

/* Scans one term from spec[*pos] up to ',', "->" or the end. `operand` is -1 for the
 * output (only for messages). */
static nnf_status scan_term(const char *spec, size_t *pos, int operand, written_term *t)
{
    char who[32];
    t->nletters = 0;
    t->ell_at = -1;
    size_t i = *pos;
    for (; spec[i] != '\0' && spec[i] != ',' && !at_arrow(spec + i); i++) {
        char c = spec[i];
        if (c == ' ')
            continue;
        if (c == '.') {
            NNF_RETURN_IF(t->ell_at >= 0, NNF_ERR_PARSE,
                          "found '.' at index %zu for %s for which an ellipsis "
                          "was already found", i, term_name(operand, who, sizeof who));
            NNF_RETURN_IF(spec[i + 1] != '.' || spec[i + 2] != '.', NNF_ERR_PARSE,
                          "found '.' at index %zu for %s that is not part of any "
                          "ellipsis", i, term_name(operand, who, sizeof who));
            t->ell_at = t->nletters;
            i += 2;
            continue;
        }
        int label = letter_label(c);
        NNF_RETURN_IF(label < 0, NNF_ERR_PARSE,
                      "invalid subscript given at index %zu in the equation string, "
                      "subscripts must be in [a-zA-Z]", i);
        if (t->nletters < NNF_MAX_DIMS)
            t->letter[t->nletters] = (int8_t)label;
        if (t->nletters < INT_MAX)
            t->nletters++;
    }
    *pos = i;
    return NNF_OK;
}

/* Checks one input term against its operand's ndim; returns the dims its ellipsis covers. */
static nnf_status check_input(const written_term *t, int operand, int ndim, int *ell_dims)
{
    if (t->ell_at < 0) {
        NNF_RETURN_IF(t->nletters != ndim, NNF_ERR_PARSE,
                      "the number of subscripts in the equation (%d) does not match "
                      "the number of dimensions (%d) for operand %d and no ellipsis was given",
                      t->nletters, ndim, operand);
        *ell_dims = 0;
    } else {
        NNF_RETURN_IF(t->nletters > ndim, NNF_ERR_PARSE,
                      "the number of subscripts in the equation (%d) is more than "
                      "the number of dimensions (%d) for operand %d",
                      t->nletters, ndim, operand);
        *ell_dims = ndim - t->nletters;
    }
    return NNF_OK;
}

/* Writes a term's labels: the letters with the ellipsis dims spliced in at ell_at,
 * ell_dims of the eq's ell_ndim broadcast dims, aligned at the right. The callers have
 * checked that the term fits NNF_MAX_DIMS; the loop bound says so to the compiler too. */
static void expand_term(const written_term *w, int ell_dims, int ell_ndim, nnf__einsum_term *t)
{
    int at = w->ell_at < 0 ? w->nletters : w->ell_at;
    int ndim = w->nletters + ell_dims;
    for (int d = 0; d < ndim && d < NNF_MAX_DIMS; d++) {
        if (d < at)
            t->label[d] = w->letter[d];
        else if (d < at + ell_dims)
            t->label[d] = (int8_t)(NNF__EINSUM_ELL + ell_ndim - ell_dims + (d - at));
        else
            t->label[d] = w->letter[d - ell_dims];
    }
    t->ndim = ndim;
}

static nnf_status parse_output(const char *spec, size_t pos, const int *count, int ell_ndim,
                               nnf__einsum_term *out)
{
    written_term w;
    NNF_FORWARD(scan_term(spec, &pos, -1, &w));
    NNF_RETURN_IF(spec[pos] == ',', NNF_ERR_PARSE,
                  "found ',' at index %zu in the output (after '->'); the output "
                  "is a single term", pos);
    NNF_RETURN_IF(spec[pos] != '\0', NNF_ERR_PARSE,
                  "found '->' a second time at index %zu; the equation has one "
                  "output", pos);
    int ndim = w.nletters + (w.ell_at >= 0 ? ell_ndim : 0);
    NNF_RETURN_IF(ndim > NNF_MAX_DIMS, NNF_ERR_PARSE,
                  "the output has %d dimensions, more than NNF_MAX_DIMS (%d)", ndim,
                  NNF_MAX_DIMS);
    uint64_t seen = 0;
    for (int i = 0; i < w.nletters; i++) {
        int label = w.letter[i];
        char c = nnf__einsum_label_char(label);
        NNF_RETURN_IF(count[label] == 0, NNF_ERR_PARSE,
                      "output subscript %c does not appear in the equation for any "
                      "input operand", c);
        NNF_RETURN_IF(seen >> label & 1, NNF_ERR_PARSE,
                      "output subscript %c appears more than once in the output", c);
        seen |= (uint64_t)1 << label;
    }
    expand_term(&w, w.ell_at >= 0 ? ell_ndim : 0, ell_ndim, out);
    return NNF_OK;
}

static nnf_status implicit_output(const int *count, int ell_ndim, nnf__einsum_term *out)
{
    int ndim = ell_ndim;
    for (int label = 0; label < NNF__EINSUM_LETTERS; label++)
        ndim += count[label] == 1;
    NNF_RETURN_IF(ndim > NNF_MAX_DIMS, NNF_ERR_PARSE,
                  "the implicit output has %d dimensions, more than NNF_MAX_DIMS "
                  "(%d)", ndim, NNF_MAX_DIMS);
    int n = 0;
    for (int j = 0; j < ell_ndim && n < NNF_MAX_DIMS; j++)
        out->label[n++] = (int8_t)(NNF__EINSUM_ELL + j);
    for (int label = 0; label < NNF__EINSUM_LETTERS && n < NNF_MAX_DIMS; label++)
        if (count[label] == 1)
            out->label[n++] = (int8_t)label;
    out->ndim = n;
    return NNF_OK;
}

/* Everything after the allocation, so that parse can free in one place. */
static nnf_status parse_into(nnf__einsum_eq *eq, written_term *w, int *ell_dims,
                             const char *spec, int noperands, const int *ndims)
{
    size_t pos = 0;
    int nterms = 0;
    for (;;) {
        written_term t;
        NNF_FORWARD(scan_term(spec, &pos, nterms, &t));
        NNF_RETURN_IF(nterms >= noperands, NNF_ERR_PARSE,
                      "fewer operands were provided than specified in the equation");
        NNF_RETURN_IF(ndims[nterms] < 0 || ndims[nterms] > NNF_MAX_DIMS, NNF_ERR_PARSE,
                      "operand %d has %d dimensions", nterms, ndims[nterms]);
        NNF_FORWARD(check_input(&t, nterms, ndims[nterms], &ell_dims[nterms]));
        w[nterms++] = t;
        if (spec[pos] != ',')
            break;
        pos++;
    }
    NNF_RETURN_IF(nterms < noperands, NNF_ERR_PARSE,
                  "more operands were provided than specified in the equation");

    int ell_ndim = 0;
    int count[NNF__EINSUM_LETTERS] = {0};
    for (int k = 0; k < noperands; k++) {
        if (ell_dims[k] > ell_ndim)
            ell_ndim = ell_dims[k];
        for (int i = 0; i < w[k].nletters; i++)
            count[w[k].letter[i]]++;
    }
    for (int k = 0; k < noperands; k++)
        expand_term(&w[k], ell_dims[k], ell_ndim, &eq->in[k]);
    eq->ell_ndim = ell_ndim;

    if (spec[pos] == '\0')
        return implicit_output(count, ell_ndim, &eq->out);
    return parse_output(spec, pos + 2, count, ell_ndim, &eq->out);
}

nnf_status nnf__einsum_parse(nnf__einsum_eq *eq, const char *spec, int noperands,
                             const int *ndims)
{
    NNF_RETURN_IF(spec == NULL, NNF_ERR_NULL, "the equation is NULL");
    NNF_RETURN_IF(noperands < 1, NNF_ERR_INVALID, "must provide at least one operand");
    NNF_RETURN_IF(ndims == NULL, NNF_ERR_NULL, "ndims is NULL");

    size_t n = (size_t)noperands;
    nnf__einsum_term *in = nnf__alloc(n * sizeof *in);
    NNF_RETURN_IF(in == NULL, NNF_ERR_NOMEM, "out of memory parsing %d operands",
                  noperands);
    /* scratch for the terms as written and their ellipsis dims */
    size_t scratch_bytes = n * (sizeof(written_term) + sizeof(int));
    written_term *w = nnf__alloc(scratch_bytes);
    nnf_status st;
    if (w == NULL) {
        st = nnf__fail(NNF_ERR_NOMEM, "out of memory parsing %d operands", noperands);
    } else {
        eq->in = in;
        eq->noperands = noperands;
        st = parse_into(eq, w, (int *)(w + n), spec, noperands, ndims);
    }
    nnf__dealloc(w, scratch_bytes);
    if (st != NNF_OK) {
        nnf__dealloc(in, n * sizeof *in);
        eq->in = NULL;
        eq->noperands = 0;
    }
    return st;
}

void nnf__einsum_eq_free(nnf__einsum_eq *eq)
{
    if (eq == NULL || eq->in == NULL)
        return;
    nnf__dealloc(eq->in, (size_t)eq->noperands * sizeof *eq->in);
    eq->in = NULL;
    eq->noperands = 0;
}
