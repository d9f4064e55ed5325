// Instructions that one call executes, nnf against its peers (peers.h), counted by
// single-stepping the call under ptrace: the fixed costs of small products (the API,
// the tiles' entries and epilogues), exactly and without noise.
//
// Why a count and not a time: on a shared VM the timings of a sub-microsecond call move
// by several percent from one run to the next, and perf's counters are "not supported"
// there (no PMU), so a cut of 100 instructions in 5000 cannot be seen. And the count is
// what a busy neighbour on the same core leaves nnf: an SMT sibling takes half of the
// core's issue slots, and a call that is FMA-bound alone becomes bound by what it
// issues (README, "Where nnf is slower").
//
//     build/bench/bench_instructions                 every shape below
//     build/bench/bench_instructions 32^3 64^3       these
//
// One thread everywhere, nnf at its widest ISA. Each count is of one call, after three
// calls that warm the caches and let a JIT peer generate its kernel, minus the count of
// an empty call (what stopping and resuming the process costs). Linux only.

#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "peers.h"
#include "sgemm_shapes.h"

namespace {

using namespace nnf_bench::sgemm_rows;

// bench_sgemm's rows where a call is short enough for its fixed costs to count, and a
// call of one element: what any call costs.
const char *const counted[] = {"32^3",     "64^3",           "5x784x10",    "5x784x10:TB",
                               "200x50x1", "outer:200x1x50", "dot:1x200x1", "200x100x50"};
const shape one = {"1x1x1", NNF_NO_TRANS, NNF_NO_TRANS, 1, 1, 1};

// The instructions the child executes between its two stops, or -1. The child makes
// `call` ready (make returns an empty function where the library cannot run the
// product), runs it three times, stops, runs it once and stops again; the parent steps
// it through that one call.
long count(const std::function<std::function<bool()>()> &make)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        std::function<bool()> call = make();
        bool ok = call && call() && call() && call();
        if (!ok || ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0)
            _exit(1);
        raise(SIGSTOP);
        call();
        raise(SIGSTOP);
        _exit(0);
    }
    int st = 0;
    long steps = -1;
    if (waitpid(pid, &st, 0) == pid && WIFSTOPPED(st)) {
        for (steps = 0;; steps++) {
            if (ptrace(PTRACE_SINGLESTEP, pid, nullptr, nullptr) != 0 ||
                waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st)) {
                steps = -1;
                break;
            }
            if (WSTOPSIG(st) == SIGSTOP)
                break;
        }
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return steps;
}

}  // namespace

int main(int argc, char **argv)
{
    nnf_bench::peers_init(argc, argv);
    nnf_bench::one_thread_widest_isa();
    std::printf("nnf: %s\n", nnf_isa_name(nnf_isa_active()));
    for (const auto &kv : nnf_bench::peers_info())
        std::printf("%s: %s\n", kv.first.c_str(), kv.second.c_str());
    const long empty = count([] { return std::function<bool()>([] { return true; }); });
    if (empty < 0) {
        std::fprintf(stderr, "bench_instructions: cannot single-step a child (ptrace)\n");
        return 1;
    }
    std::printf("\nInstructions per call, one thread (an empty call's %ld subtracted); "
                "peer / nnf above 1: the peer executes more\n\n| shape | nnf |",
                empty);
    std::vector<nnf_bench::peer> peers;
    for (nnf_bench::peer p : nnf_bench::all_peers)
        if (p != nnf_bench::peer::c && nnf_bench::peer_available(p)) {
            peers.push_back(p);
            std::printf(" %s | peer / nnf |", nnf_bench::peer_name(p));
        }
    std::printf("\n|---|---|");
    for (size_t i = 0; i < peers.size(); i++)
        std::printf("---|---|");
    std::printf("\n");
    std::vector<const shape *> rows = {&one};
    for (const char *name : counted)
        for (const shape &s : shapes)
            if (std::strcmp(s.name, name) == 0)
                rows.push_back(&s);
    for (const shape *row : rows) {
        const shape &s = *row;
        bool wanted = argc < 2;
        for (int i = 1; i < argc; i++)
            wanted |= std::strcmp(argv[i], s.name) == 0;
        if (!wanted)
            continue;
        auto o = std::make_shared<operands>(s);
        long mine = count([&] {
            return std::function<bool()>([o, s] { return run_nnf(s, *o) == NNF_OK; });
        });
        std::printf("| %s | %ld |", s.name, mine < 0 ? -1 : mine - empty);
        for (nnf_bench::peer p : peers) {
            long theirs = count([&] {
                std::string why;
                std::shared_ptr<nnf_bench::prepared> run =
                    nnf_bench::peer_prepare(p, args_of(s, *o, o->c.data()), &why);
                return run ? std::function<bool()>([run] { return run->call(); })
                           : std::function<bool()>();
            });
            if (theirs < 0 || mine < 0)
                std::printf(" — | |");
            else
                std::printf(" %ld | %.2f |", theirs - empty,
                            (double)(theirs - empty) / (double)(mine - empty));
        }
        std::printf("\n");
        std::fflush(stdout);
    }
    return 0;
}
