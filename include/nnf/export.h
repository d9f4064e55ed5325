/* nnf/export.h — the markers every public declaration carries.
 *
 *     NNF_API NNF_NODISCARD nnf_status nnf_add(nnf_tensor **out, ...);
 *
 * NNF_API       the symbol is part of the public ABI. The shared library is built with
 *               hidden visibility, so only what carries NNF_API is exported; in the
 *               static library it changes nothing.
 * NNF_NODISCARD the compiler warns when a returned nnf_status is ignored: an unchecked
 *               failure leaves its output unset, and the next call reads garbage.
 *               Define NNF_NO_NODISCARD before including nnf to turn it off. In C, gcc
 *               does not take a (void) cast as leave to ignore one (clang does; so does
 *               C++17's [[nodiscard]], used there): test the status instead.
 * NNF_DEPRECATED(msg)  an old name kept for one release; msg names its replacement.
 */
#ifndef NNF_EXPORT_H
#define NNF_EXPORT_H

#if defined(__cplusplus) && __cplusplus >= 201103L && (defined(__GNUC__) || defined(__clang__))
/* C++: standard attribute syntax throughout (clang rejects [[nodiscard]] after a GNU
 * __attribute__), and from C++17 [[nodiscard]], which both compilers let a (void) cast
 * silence. */
#define NNF_API [[gnu::visibility("default")]]
#if defined(NNF_NO_NODISCARD)
#define NNF_NODISCARD
#elif __cplusplus >= 201703L
#define NNF_NODISCARD [[nodiscard]]
#else
#define NNF_NODISCARD [[gnu::warn_unused_result]]
#endif
#define NNF_DEPRECATED(msg) [[gnu::deprecated(msg)]]
#elif defined(__GNUC__) || defined(__clang__)
#define NNF_API __attribute__((visibility("default")))
#if defined(NNF_NO_NODISCARD)
#define NNF_NODISCARD
#else
#define NNF_NODISCARD __attribute__((warn_unused_result))
#endif
#define NNF_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#define NNF_API
#define NNF_NODISCARD
#define NNF_DEPRECATED(msg)
#endif

#endif
