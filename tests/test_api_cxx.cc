// The public headers as a C++ program includes them, built with -Wall -Wextra -Wpedantic
// -Werror: C-only forms (compound literals, designated initialisers) would not compile.
// NNF_SHAPE has a C++ form; this checks that it counts without evaluating, evaluates each
// size once, converts any integer type, and that the array lives through the call.
#include <nnf/nnf.h>

#include <cstddef>
#include <cstdio>

static int failures;

#define EXPECT(cond)                                                       \
    do {                                                                   \
        if (!(cond)) {                                                     \
            std::fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                    \
        }                                                                  \
    } while (0)
#define EXPECT_OK(call)                                                                 \
    do {                                                                                \
        nnf_status st_ = (call);                                                        \
        if (st_ != NNF_OK) {                                                            \
            std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call,          \
                         nnf_last_error());                                             \
            failures++;                                                                 \
        }                                                                               \
    } while (0)

static bool has_shape(const nnf_tensor *t, int ndim, const int64_t *shape)
{
    if (t == nullptr || nnf_tensor_ndim(t) != ndim)
        return false;
    for (int i = 0; i < ndim; i++)
        if (nnf_tensor_shape(t)[i] != shape[i])
            return false;
    return true;
}

int main()
{
    nnf_tensor *a = nullptr, *b = nullptr, *c = nullptr, *s = nullptr;
    EXPECT_OK(nnf_ones(&a, NNF_SHAPE(2, 3)));
    const int64_t want_a[] = {2, 3};
    EXPECT(has_shape(a, 2, want_a));

    int calls = 0;
    auto next_size = [&calls] { return ++calls + 1; };
    std::size_t n = 3;
    unsigned short one = 1;
    EXPECT_OK(nnf_full(&b, NNF_SHAPE(next_size(), one, n), 2.0f));
    EXPECT(calls == 1);
    const int64_t want_b[] = {2, 1, 3};
    EXPECT(has_shape(b, 3, want_b));

    EXPECT_OK(nnf_mul(&c, a, b));   // [2, 3] * [2, 1, 3] -> [2, 2, 3]
    EXPECT_OK(nnf_sum(&s, c, NNF_ALL_DIMS, 0));
    EXPECT(nnf_tensor_ndim(s) == 0);
    float v = 0;
    EXPECT_OK(nnf_value(&v, s));
    EXPECT(v == 24.0f);
    nnf_tensor *m = nullptr;
    long last = -1;
    EXPECT_OK(nnf_sum(&m, c, NNF_DIMS(0, last), 1));   // [2, 2, 3] over dims 0 and 2
    const int64_t want_m[] = {1, 2, 1};
    EXPECT(has_shape(m, 3, want_m));
    const int64_t at[] = {0, 1, 0};
    EXPECT_OK(nnf_value_at(&v, m, at));
    EXPECT(v == 12.0f);
    nnf_tensor_free(m);

    nnf_tensor *none = nullptr;
    EXPECT(nnf_zeros(&none, NNF_SHAPE(-1)) == NNF_ERR_INVALID);
    EXPECT(none == nullptr);
    nnf_clear_error();
    EXPECT(nnf_last_error()[0] == '\0');

    nnf_tensor *list[] = {a, b, c, s};
    for (nnf_tensor *t : list)
        nnf_tensor_free(t);
    if (failures == 0)
        std::printf("C++: nnf %s, NNF_SHAPE and NNF_DIMS ok\n", nnf_version());
    return failures == 0 ? 0 : 1;
}
