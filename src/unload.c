/* What the shared library undoes before it is unmapped (dlclose), compiled into
 * libnnf.so only: in the static library nnf's code is never unmapped, and the process
 * ends as it always has.
 *
 * Anything that could run nnf code after the unmap must go first: the pool's workers
 * (they execute nnf's code while asleep on a futex) and the pthread key whose
 * destructor would free a calling thread's sgemm scratch when that thread exits. The
 * huge-page cache is returned too, or up to 512 MiB would stay mapped with nothing left
 * to reuse it. pthread_atfork handlers need nothing: glibc drops those of an unloaded
 * object (they are registered with its __dso_handle).
 *
 * ELF destructors also run at process exit, so the same happens then: a process must not exit
 * while another thread is inside an nnf call (its scratch would be freed under it). */
#include "src/core/alloc.h"
#include "src/linalg/sgemm_scratch.h"
#include "src/runtime/pool.h"

__attribute__((destructor)) static void nnf_unload(void)
{
    nnf__runtime_stop();
    nnf__sgemm_scratch_unload();
    nnf__alloc_trim();
}
