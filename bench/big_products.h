/* The large products that the C tools among the benchmarks time (bench_threads: where a
 * threaded product's time goes; bench_blocking: the cache blocks chosen for this CPU
 * against others): two squares of bench_sgemm's table and the big MLP training step's
 * three products (bench/train_net.h's "mlp", 4096x784->512->10). Numbered as listed. */
#ifndef NNF_BENCH_BIG_PRODUCTS_H
#define NNF_BENCH_BIG_PRODUCTS_H

#include <stddef.h>

#include "nnf/linalg.h"

typedef struct {
    const char *name;
    nnf_trans ta, tb;
    size_t m, n, k;
} product;

static const product products[] = {
    {"1024^3", NNF_NO_TRANS, NNF_NO_TRANS, 1024, 1024, 1024},
    {"MLP x@W1^T 4096x784->512", NNF_NO_TRANS, NNF_TRANS, 4096, 512, 784},
    {"MLP g^T@x 512x784, k 4096", NNF_TRANS, NNF_NO_TRANS, 512, 784, 4096},
    {"MLP g@W1 4096x512->784", NNF_NO_TRANS, NNF_NO_TRANS, 4096, 784, 512},
    {"512^3", NNF_NO_TRANS, NNF_NO_TRANS, 512, 512, 512},
    {"256^3", NNF_NO_TRANS, NNF_NO_TRANS, 256, 256, 256},
};
enum { NPRODUCTS = sizeof products / sizeof products[0] };

#endif
