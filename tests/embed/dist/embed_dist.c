/* An outside MPI program on the installed libnnf_dist (scripts/embed.sh runs it under
 * mpirun with 2 ranks): every rank adds its rank number through nnf_dist_sum and checks
 * the total against the formula. */
#include <stdio.h>

#include <nnf/dist.h>

int main(void)
{
    nnf_dist *d = NULL;
    if (nnf_dist_init(&d, MPI_COMM_WORLD) != NNF_OK) {
        fprintf(stderr, "%s\n", nnf_last_error());
        return 1;
    }
    const int rank = nnf_dist_rank(d), size = nnf_dist_size(d);
    int64_t v = rank;
    nnf_status st = nnf_dist_sum(d, &v, 1);
    const int ok = st == NNF_OK && v == (int64_t)size * (size - 1) / 2;
    if (rank == 0)
        printf("nnf_dist on %d ranks: sum of ranks %lld (%s)\n", size, (long long)v,
               ok ? "ok" : nnf_last_error());
    nnf_dist_free(d);
    return ok ? 0 : 1;
}
