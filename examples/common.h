/* What the examples share: stop at the first error with nnf's own message, a clock, and
 * a tensor shape printed the way PyTorch prints torch.Size. */
#ifndef NNF_EXAMPLES_COMMON_H
#define NNF_EXAMPLES_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <nnf/nnf.h>

/* Every nnf call returns a status; an example has nothing better to do with a failure
 * than to say where and why, and stop. */
#define CHECK(call)                                                                  \
    do {                                                                             \
        nnf_status check_st_ = (call);                                               \
        if (check_st_ != NNF_OK) {                                                   \
            fprintf(stderr, "%s:%d: %s failed: %s: %s\n", __FILE__, __LINE__, #call, \
                    nnf_status_str(check_st_), nnf_last_error());                    \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

static inline double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Median over 5 rounds of the time per call of fn(arg), in seconds; each round repeats
 * the call until it has run for 20 ms, so fast calls are not lost in clock noise. */
static inline double time_median(void (*fn)(void *), void *arg)
{
    double rounds[5];
    for (int r = 0; r < 5; r++) {
        long calls = 0;
        double start = now_seconds(), elapsed;
        do {
            fn(arg);
            calls++;
            elapsed = now_seconds() - start;
        } while (elapsed < 0.02);
        rounds[r] = elapsed / (double)calls;
    }
    for (int i = 1; i < 5; i++)   /* insertion sort of 5 */
        for (int j = i; j > 0 && rounds[j] < rounds[j - 1]; j--) {
            double t = rounds[j];
            rounds[j] = rounds[j - 1];
            rounds[j - 1] = t;
        }
    return rounds[2];
}

/* "1.23 ms", "456 us", "2.1 s" */
static inline const char *format_time(char *buf, size_t size, double seconds)
{
    if (seconds >= 1.0) snprintf(buf, size, "%.2f s", seconds);
    else if (seconds >= 1e-3) snprintf(buf, size, "%.2f ms", seconds * 1e3);
    else snprintf(buf, size, "%.1f us", seconds * 1e6);
    return buf;
}

/* "torch.Size([64, 3, 256, 256])" */
static inline void print_size(const nnf_tensor *t)
{
    printf("torch.Size([");
    for (int d = 0; d < nnf_tensor_ndim(t); d++)
        printf(d ? ", %lld" : "%lld", (long long)nnf_tensor_size(t, d));
    printf("])");
}

/* "(0, 1)" */
static inline void print_strides(const nnf_tensor *t)
{
    printf("(");
    for (int d = 0; d < nnf_tensor_ndim(t); d++)
        printf(d ? ", %lld" : "%lld", (long long)nnf_tensor_strides(t)[d]);
    printf(nnf_tensor_ndim(t) == 1 ? ",)" : ")");
}

/* The value of a one-element tensor, for printf. */
static inline float item(const nnf_tensor *t)
{
    float v = 0.0f;
    CHECK(nnf_value(&v, t));
    return v;
}

#endif
