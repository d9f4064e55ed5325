/* nnf/export.h — the markers every public declaration carries.
 *
 *     NNF_API NNF_NODISCARD nnf_status nnf_add(nnf_tensor **out, ...);
 *
 * NNF_API       the symbol is part of the public ABI. The shared library is built with
 *               hidden visibility, so only what carries NNF_API is exported; in the
 *               static library it changes nothing.
 * NNF_NODISCARD the compiler warns when a returned nnf_status is ignored: an unchecked
 *               failure leaves its output unset, and the next call reads garbage.
 *               Define NNF_NO_NODISCARD before including nnf to turn it off.
 * NNF_DEPRECATED(msg)  an old name kept for one release; msg names its replacement.
 */
#ifndef NNF_EXPORT_H
#define NNF_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
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
