/* Facts about the build and the runtime that nnf-info and users ask for. */
#include "nnf/nnf.h"

const char *nnf_version(void)
{
    return NNF_VERSION_STRING;
}
