/* nnf/log.h — where nnf's messages go, and how many of them there are.
 *
 * Errors are not messages: a failing call returns its status and the details wait in
 * nnf_last_error() (nnf/status.h). Messages tell what nnf decided on its own or could
 * not use: an environment variable it ignored, the ISA and thread count it chose, what
 * it detected. By default they go to stderr as
 *     nnf: warning: NNF_ISA=avx1024 is not one of scalar, avx2, avx512, neon; ignored
 *     nnf: ISA: avx512 (AVX-512 F+DQ+BW+VL with ZMM state enabled in XCR0; ...)
 *
 * Levels, set with the environment variable NNF_VERBOSE (read at the first message) or
 * with nnf_set_log_level:
 *     0  silent
 *     1  warnings (the default): a setting nnf could not use and ignored
 *     2  info: the ISA chosen and why, the thread count and where it came from
 *     3  debug: the CPU features and registers behind the choice, worker threads
 *        started and stopped, the cache limit
 * An NNF_VERBOSE that is not one of these counts as 1 (and says so).
 */
#ifndef NNF_LOG_H
#define NNF_LOG_H

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { NNF_LOG_WARNING = 1, NNF_LOG_INFO = 2, NNF_LOG_DEBUG = 3 } nnf_log_level;

/* Receives each message at or below the level in force: one line of text without the
 * "nnf: " prefix or a newline, valid only during the call. It may be called from any
 * thread that calls nnf and from nnf's own worker threads, also at the same time, so
 * it must be thread-safe; it must not call back into nnf (except nnf_last_error). */
typedef void (*nnf_log_fn)(void *user, nnf_log_level level, const char *message);

/* Sends later messages to fn(user, level, message), for the whole process; fn NULL
 * restores stderr. A message being delivered while this is called may still reach the
 * previous callback. */
NNF_API void nnf_set_log_callback(nnf_log_fn fn, void *user);

/* Sets the level (0 to 3, see above) for the whole process, overriding NNF_VERBOSE.
 * NNF_ERR_INVALID, and no change, outside 0..3. */
NNF_API NNF_NODISCARD nnf_status nnf_set_log_level(int level);

/* The level in force: the last nnf_set_log_level, else NNF_VERBOSE, else 1. */
NNF_API int nnf_get_log_level(void);

#ifdef __cplusplus
}
#endif
#endif
