/* The thread count a parallel call may use now; the API that sets it is nnf/threads.h. */
#ifndef NNF_RUNTIME_THREADS_H
#define NNF_RUNTIME_THREADS_H

/* 1 inside an nnf job (on a worker, or on a caller running one) or inside the caller's
 * active OpenMP region, else nnf_get_num_threads(). */
int nnf__threads_for_call(void);

#endif
