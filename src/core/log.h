/* The one way library code says something outside an error: nnf__log, which hands the
 * message to the application's callback (nnf/log.h) or writes it to stderr. Nothing
 * else in the library writes to stderr. */
#ifndef NNF_CORE_LOG_H
#define NNF_CORE_LOG_H

#include "nnf/log.h"

/* 1 if messages of `level` are delivered: test it before building an expensive one. */
int nnf__log_enabled(nnf_log_level level);

/* Formats and delivers one message if its level is enabled; longer than 511 bytes is
 * cut. */
void nnf__log(nnf_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Test hook: reads NNF_VERBOSE again, as at the first message. */
void nnf__log_reread_env(void);

#endif
