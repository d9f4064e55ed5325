// nnf under competing load, at 1 thread and at its default thread count, beside OpenBLAS
// (pthreads build) and oneDNN (dnnl_sgemm) in the same run. The benchmark starts its own
// load for each row:
//   quiet           nothing
//   nice19 proc     a busy-loop process at nice 19
//   normal proc     a busy-loop process at normal priority
//   normal thread   a busy thread of this process at normal priority (the caller's own)
//   2 normal procs  two busy-loop processes at normal priority
// and times, in each of --rounds (default 15) interleaved rounds (the rows and, within a
// row, the variants in an order that rotates from round to round): sgemm 256^3, 512^3,
// 1024^3 (nnf, OpenBLAS, oneDNN), a 16M-float add into an existing tensor and a 16M-float
// sum (nnf), and the two training steps of bench/train_net.h (nnf). Each quiet row also
// times the FMA peak loop (fma_peak.h) on one thread and on two threads side by side: the
// scaling a perfectly parallel program could reach here.
//
// Printed per row: median [10th percentile] of the rate over the rounds, and for each
// multi-thread variant the median [10th percentile] of its rate over the same library's
// one-thread rate in the same round (paired, so a slow spell hits both). A second table
// says where nnf's time went (cpu_use below).
//
//     build/native/bench/bench_contention [--rounds=15] [--only=sum,add] [--loads=quiet,normal]
//
// --only keeps the workloads whose names contain one of the comma-separated words, --loads
// the load rows likewise (e.g. "normal" keeps "normal proc", "normal thread" and "2 normal
// procs"); the rounds stay interleaved over what is kept.
//
// On a machine others are using, `nice -n -10 bench_contention` keeps their niced work
// in the background; the normal-priority loads then run at -10 too.
//
// The peers come from peers.h, which gives them their best kernels whatever the
// environment says (OPENBLAS_CORETYPE: the binary starts itself again) and prints which.
// OpenBLAS's idle workers spin for a while after each call (~2^28 cycles, its
// THREAD_TIMEOUT) and would slow the next row down: after a peer's variant the benchmark
// waits until its threads sleep (measured with getrusage).
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "fma_peak.h"
#include "peers.h"
#include "train_net.h"

namespace {

using clock_type = std::chrono::steady_clock;

double now_s()
{
    return std::chrono::duration<double>(clock_type::now().time_since_epoch()).count();
}

void sleep_s(double s)
{
    std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

double cpu_s(int who)
{
    rusage u;
    getrusage(who, &u);
    return (double)u.ru_utime.tv_sec + 1e-6 * (double)u.ru_utime.tv_usec +
           (double)u.ru_stime.tv_sec + 1e-6 * (double)u.ru_stime.tv_usec;
}

double process_cpu_s()
{
    return cpu_s(RUSAGE_SELF);
}

// The calling thread's sleeps (voluntary context switches) so far.
double sleeps()
{
    rusage u;
    getrusage(RUSAGE_THREAD, &u);
    return (double)u.ru_nvcsw;
}

// ---- load ----

volatile unsigned long sink;

// The busy processes are forked at startup, before any large buffer exists (a child
// forked later would share them copy-on-write, and the parent's next writes would pay a
// page copy each), stopped, and continued for the rows that need them.
struct busy_procs {
    pid_t nice19 = 0, normal[2] = {0, 0};
    static pid_t start(int nice_value)
    {
        pid_t pid = fork();
        if (pid == 0) {
            setpriority(PRIO_PROCESS, 0, nice_value);
            raise(SIGSTOP);
            for (;;)
                sink = sink + 1;
        }
        int status;
        waitpid(pid, &status, WUNTRACED);
        return pid;
    }
    // "Normal" is the benchmark's own priority, so the rows keep their meaning when the
    // whole run is started at another nice level (e.g. -10, above other users' builds).
    void spawn()
    {
        errno = 0;
        int own = getpriority(PRIO_PROCESS, 0);
        nice19 = start(19);
        normal[0] = start(errno == 0 ? own : 0);
        normal[1] = start(errno == 0 ? own : 0);
    }
    ~busy_procs()
    {
        for (pid_t p : {nice19, normal[0], normal[1]})
            if (p > 0) {
                kill(p, SIGKILL);
                waitpid(p, nullptr, 0);
            }
    }
};

busy_procs procs;

std::atomic<bool> thread_stop;

void *busy_thread(void *)
{
    while (!thread_stop.load(std::memory_order_relaxed))
        sink = sink + 1;
    return nullptr;
}

struct load {
    const char *name;
    int nice_procs, normal_procs, normal_threads;
};

const load loads[] = {
    {"quiet", 0, 0, 0},
    {"nice19 proc", 1, 0, 0},
    {"normal proc", 0, 1, 0},
    {"normal thread", 0, 0, 1},
    {"2 normal procs", 0, 2, 0},
};
constexpr int kLoads = sizeof loads / sizeof loads[0];

struct running_load {
    std::vector<pid_t> on;
    std::vector<pthread_t> threads;
    explicit running_load(const load &l)
    {
        if (l.nice_procs)
            on.push_back(procs.nice19);
        for (int i = 0; i < l.normal_procs; i++)
            on.push_back(procs.normal[i]);
        for (pid_t p : on)
            kill(p, SIGCONT);
        thread_stop = false;
        for (int i = 0; i < l.normal_threads; i++) {
            pthread_t t;
            pthread_create(&t, nullptr, busy_thread, nullptr);
            threads.push_back(t);
        }
        sleep_s(0.03);   // let the scheduler spread the load over the cores
    }
    // CPU time of the busy threads (not of the processes) so far.
    double threads_cpu_s() const
    {
        double sum = 0;
        for (pthread_t t : threads) {
            clockid_t c;
            timespec ts;
            if (pthread_getcpuclockid(t, &c) == 0 && clock_gettime(c, &ts) == 0)
                sum += (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
        }
        return sum;
    }
    ~running_load()
    {
        for (pid_t p : on) {
            kill(p, SIGSTOP);
            int status;
            waitpid(p, &status, WUNTRACED);
        }
        thread_stop = true;
        for (pthread_t t : threads)
            pthread_join(t, nullptr);
    }
};

// ---- workloads and variants ----

enum lib { NNF, OPENBLAS, ONEDNN };
const char *const lib_names[] = {"nnf", "OpenBLAS", "oneDNN"};
const nnf_bench::peer lib_peers[] = {nnf_bench::peer::c, nnf_bench::peer::openblas,
                                     nnf_bench::peer::onednn};

struct variant {
    lib who;
    int threads;
};

struct workload {
    std::string name;
    const char *unit;        // "GFLOPS" or "GB/s"
    double work;             // flops or bytes per call
    std::vector<lib> libs;
    std::function<bool(lib)> call;
    int reps = 1;            // calls per measurement
};

struct matrices {
    size_t n;
    std::vector<float> a, b, c;
    explicit matrices(size_t size) : n(size), a(size * size), b(size * size), c(size * size)
    {
        for (size_t i = 0; i < a.size(); i++) {
            a[i] = (float)(i % 7) * 0.1f - 0.3f;
            b[i] = (float)(i % 5) * 0.1f - 0.2f;
        }
    }
    bool run(lib who)
    {
        if (who == NNF)
            return nnf_sgemm(NNF_NO_TRANS, NNF_NO_TRANS, n, n, n, 1.0f, a.data(), n, b.data(),
                             n, 0.0f, c.data(), n) == NNF_OK;
        const int s = (int)n;
        const nnf_bench::gemm_args g{NNF_NO_TRANS, NNF_NO_TRANS, s, s, s, 1.0f, a.data(), s,
                                     b.data(), s, 0.0f, c.data(), s};
        return nnf_bench::peer_sgemm(lib_peers[who], g);
    }
};

void set_threads(lib who, int threads)
{
    if (who == NNF)
        nnf_bench::set_threads(threads);
    else
        nnf_bench::peer_set_threads(lib_peers[who], threads);
}

// Waits (up to 0.5 s) until this process uses no CPU: the peers' workers asleep.
void wait_idle()
{
    for (int i = 0; i < 50; i++) {
        double c0 = process_cpu_s();
        sleep_s(0.01);
        if (process_cpu_s() - c0 < 0.0005)
            return;
    }
}

// Where nnf's time went in one measurement: the calling thread's CPU time and that of
// nnf's workers (the process's, less the caller's and the benchmark's busy threads') over
// the wall time, and the caller's sleeps per call. A second thread that slows items down
// (caches, memory) shows as CPU above the 1-thread figure; waiting, as CPU below the wall
// and as sleeps; a sleeping caller's CPU may go to the competing load until the
// scheduler gives it back.
struct cpu_use {
    double caller, others, sleeps;
};

// ---- statistics ----

double quantile(std::vector<double> v, double q)
{
    std::sort(v.begin(), v.end());
    double pos = q * (double)(v.size() - 1);
    size_t lo = (size_t)pos;
    double frac = pos - (double)lo;
    return lo + 1 < v.size() ? v[lo] * (1 - frac) + v[lo + 1] * frac : v[lo];
}

// FMA peak: one thread alone, then two threads side by side; GFLOPS each.
void peak(double *alone, double *pair)
{
#if defined(__x86_64__)
    const int iters = 2000000;
    const double flops = 2.0 * 16 * nnf_bench::kPeakChains * iters;
    static volatile float x = 0.999f, y = 0.001f;   // opaque: each call really runs
    auto one = [&](double *gf) {
        double t0 = now_s();
        float r = nnf_bench::fma_chains512(iters, x, y);
        *gf = flops / (now_s() - t0) * 1e-9;
        sink = sink + (unsigned long)(r > 1e30f);
    };
    one(alone);
    double g[2];
    std::thread t([&] { one(&g[1]); });
    one(&g[0]);
    t.join();
    *pair = (g[0] + g[1]) / 2;
#else
    *alone = *pair = 0.0;
#endif
}

// 1 if `list` (comma-separated words; NULL: everything) has a word that `name` contains.
bool selected(const char *list, const std::string &name)
{
    if (list == nullptr)
        return true;
    std::string l(list);
    for (size_t b = 0; b <= l.size();) {
        size_t e = l.find(',', b);
        if (e == std::string::npos)
            e = l.size();
        if (e > b && name.find(l.substr(b, e - b)) != std::string::npos)
            return true;
        b = e + 1;
    }
    return false;
}

}  // namespace

int main(int argc, char **argv)
{
    int rounds = 15;
    const char *only = nullptr, *only_loads = nullptr;
    for (int i = 1; i < argc; i++) {
        if (std::strncmp(argv[i], "--rounds=", 9) == 0)
            rounds = std::max(1, std::atoi(argv[i] + 9));
        else if (std::strncmp(argv[i], "--only=", 7) == 0)
            only = argv[i] + 7;
        else if (std::strncmp(argv[i], "--loads=", 8) == 0)
            only_loads = argv[i] + 8;
    }
    nnf_bench::peers_init(argc, argv);   // first: it may start the binary again
    procs.spawn();
    nnf_bench::use_widest_isa();
    const int D = nnf_get_num_threads();
    std::printf("nnf %s on %s, default threads %d\n", nnf_version(),
                nnf_isa_name(nnf_isa_active()), D);
    for (const auto &kv : nnf_bench::peers_info())
        std::printf("%s: %s\n", kv.first.c_str(), kv.second.c_str());
    FILE *la = std::fopen("/proc/loadavg", "r");
    char loadavg[64] = "?";
    if (la != nullptr && std::fgets(loadavg, sizeof loadavg, la) != nullptr)
        loadavg[std::strcspn(loadavg, "\n")] = '\0';
    if (la != nullptr)
        std::fclose(la);
    std::printf("load average at start: %s; %d rounds\n", loadavg, rounds);

    std::vector<lib> peer_libs = {NNF};
    for (lib who : {OPENBLAS, ONEDNN})
        if (nnf_bench::peer_available(lib_peers[who]))
            peer_libs.push_back(who);
    std::vector<workload> w;
    static matrices m256(256), m512(512), m1024(1024);
    for (matrices *mm : {&m256, &m512, &m1024}) {
        double n = (double)mm->n;
        w.push_back({"sgemm " + std::to_string(mm->n) + "^3", "GFLOPS", 2 * n * n * n,
                     peer_libs, [mm](lib who) { return mm->run(who); }});
    }
    const int64_t big = 1 << 24;
    nnf_tensor *x = nullptr, *y = nullptr, *z = nullptr, *s = nullptr;
    if (nnf_rand(&x, nullptr, NNF_SHAPE(big)) != NNF_OK ||
        nnf_rand(&y, nullptr, NNF_SHAPE(big)) != NNF_OK ||
        nnf_empty(&z, NNF_SHAPE(big)) != NNF_OK || nnf_sum(&s, x, 0, nullptr, 0) != NNF_OK) {
        std::fprintf(stderr, "%s\n", nnf_last_error());
        return 1;
    }
    w.push_back({"add 16M", "GB/s", 12.0 * big, {NNF},
                 [&](lib) { return nnf_add(&z, x, y) == NNF_OK; }});
    w.push_back({"sum 16M", "GB/s", 4.0 * big, {NNF},
                 [&](lib) { return nnf_sum(&s, x, 0, nullptr, 0) == NNF_OK; }});
    static nnf_bench::data d0(nnf_bench::shapes[0]), d1(nnf_bench::shapes[1]);
    static nnf_bench::nnf_net net0(nnf_bench::shapes[0], d0), net1(nnf_bench::shapes[1], d1);
    for (int i = 0; i < 2; i++) {
        nnf_bench::nnf_net *net = i == 0 ? &net0 : &net1;
        if (!net->ok) {
            std::fprintf(stderr, "%s\n", nnf_last_error());
            return 1;
        }
        w.push_back({std::string("step ") + nnf_bench::shapes[i].name, "GFLOPS",
                     nnf_bench::step_flops(nnf_bench::shapes[i]), {NNF}, [net](lib) {
                         float v;
                         return net->step(&v);
                     }});
    }

    w.erase(std::remove_if(w.begin(), w.end(),
                           [&](const workload &wl) { return !selected(only, wl.name); }),
            w.end());
    bool load_on[kLoads];
    for (int l = 0; l < kLoads; l++)
        load_on[l] = selected(only_loads, loads[l].name);

    // Calls per measurement: ~40 ms of nnf on one thread.
    for (auto &wl : w) {
        set_threads(NNF, 1);
        wl.call(NNF);
        double t0 = now_s();
        wl.call(NNF);
        wl.reps = std::max(1, (int)std::lround(0.04 / std::max(1e-6, now_s() - t0)));
    }

    // rate[load][workload][variant][round]
    std::vector<std::vector<variant>> vars(w.size());
    for (size_t i = 0; i < w.size(); i++)
        for (lib who : w[i].libs)
            for (int t : {1, D})
                vars[i].push_back({who, t});
    std::vector<std::vector<std::vector<std::vector<double>>>> rate(kLoads);
    for (auto &r : rate) {
        r.resize(w.size());
        for (size_t i = 0; i < w.size(); i++)
            r[i].assign(vars[i].size(), std::vector<double>());
    }
    std::vector<std::vector<std::vector<std::vector<cpu_use>>>> use(kLoads);   // like rate
    for (auto &u : use) {
        u.resize(w.size());
        for (size_t i = 0; i < w.size(); i++)
            u[i].assign(vars[i].size(), std::vector<cpu_use>());
    }
    std::vector<double> peak1, peak2;
    double t_start = now_s();
    for (int r = 0; r < rounds; r++) {
        for (int li = 0; li < kLoads; li++) {
            int l = (li + r) % kLoads;
            if (!load_on[l])
                continue;
            running_load on(loads[l]);
            if (l == 0) {
                double p1, p2;
                peak(&p1, &p2);
                peak1.push_back(p1);
                peak2.push_back(p2);
            }
            for (size_t i = 0; i < w.size(); i++) {
                size_t nv = vars[i].size();
                for (size_t k = 0; k < nv; k++) {
                    size_t v = (k + (size_t)r) % nv;
                    const variant &var = vars[i][v];
                    set_threads(var.who, var.threads);
                    double t0 = 0, c0 = 0, p0 = 0, b0 = 0, s0 = 0;
                    // One untimed call first: lowering nnf's thread count stops its
                    // workers, and the call after raising it again starts them (0.2 ms,
                    // bench_threads); an application does not switch counts per call.
                    for (int rep = -1; rep < w[i].reps; rep++) {
                        if (rep == 0) {
                            c0 = cpu_s(RUSAGE_THREAD), p0 = process_cpu_s();
                            b0 = on.threads_cpu_s(), s0 = sleeps();
                            t0 = now_s();
                        }
                        if (!w[i].call(var.who)) {
                            std::fprintf(stderr, "%s failed: %s\n", w[i].name.c_str(),
                                         nnf_last_error());
                            return 1;
                        }
                    }
                    double dt = now_s() - t0;
                    double caller = cpu_s(RUSAGE_THREAD) - c0;
                    double others = process_cpu_s() - p0 - caller - (on.threads_cpu_s() - b0);
                    use[l][i][v].push_back({caller / dt, others / dt,
                                            (sleeps() - s0) / w[i].reps});
                    rate[l][i][v].push_back(w[i].work * w[i].reps / dt * 1e-9);
                    if (var.who != NNF)
                        wait_idle();
                }
            }
        }
        std::fprintf(stderr, "round %d/%d done (%.0f s)\n", r + 1, rounds, now_s() - t_start);
    }

    if (!peak1.empty())
        std::printf("\nFMA peak loop: 1 thread %.0f GFLOPS, 2 side by side %.0f each: scaling "
                "%.2fx (medians)\n",
                quantile(peak1, 0.5), quantile(peak2, 0.5),
                2 * quantile(peak2, 0.5) / quantile(peak1, 0.5));
    std::printf("\nmedian [10th percentile] over %d rounds; xN: rate over the same library's "
                "1-thread rate in the same round, median [10th percentile]\n\n",
                rounds);
    std::printf("| load | workload | unit |");
    for (int who = 0; who < 3; who++)
        std::printf(" %s 1 | %s %d |", lib_names[who], lib_names[who], D);
    std::printf("\n|---|---|---|---|---|---|---|---|---|\n");
    for (int l = 0; l < kLoads; l++) {
        for (size_t i = 0; i < w.size() && load_on[l]; i++) {
            std::printf("| %s | %s | %s |", loads[l].name, w[i].name.c_str(), w[i].unit);
            for (int who = 0; who < 3; who++) {
                int v1 = -1, vd = -1;
                for (size_t v = 0; v < vars[i].size(); v++)
                    if (vars[i][v].who == who)
                        (vars[i][v].threads == 1 && v1 < 0 ? v1 : vd) = (int)v;
                if (v1 < 0) {
                    std::printf(" — | — |");
                    continue;
                }
                const auto &a = rate[l][i][v1], &b = rate[l][i][vd];
                std::vector<double> ratio(a.size());
                for (size_t k = 0; k < a.size(); k++)
                    ratio[k] = b[k] / a[k];
                std::printf(" %.1f [%.1f] | %.1f [%.1f] x%.2f [%.2f] |", quantile(a, 0.5),
                            quantile(a, 0.1), quantile(b, 0.5), quantile(b, 0.1),
                            quantile(ratio, 0.5), quantile(ratio, 0.1));
            }
            std::printf("\n");
        }
    }
    std::printf("\nnnf's CPU time over the wall time, medians over the rounds: the caller's "
                "and its workers' (CPU x wall: the same in CPU-seconds per call); the "
                "caller's sleeps per call\n\n| load | workload | 1 thread | %d threads: "
                "caller | workers | sleeps |\n|---|---|---|---|---|---|\n", D);
    for (int l = 0; l < kLoads; l++) {
        for (size_t i = 0; i < w.size() && load_on[l]; i++) {
            std::printf("| %s | %s |", loads[l].name, w[i].name.c_str());
            for (size_t v = 0; v < vars[i].size(); v++) {
                if (vars[i][v].who != NNF)
                    continue;
                std::vector<double> c, o, z;
                for (const cpu_use &u : use[l][i][v]) {
                    c.push_back(u.caller);
                    o.push_back(u.others);
                    z.push_back(u.sleeps);
                }
                if (vars[i][v].threads == 1 && v == 0)
                    std::printf(" %.2f |", quantile(c, 0.5));
                else
                    std::printf(" %.2f | %.2f | %.1f |", quantile(c, 0.5), quantile(o, 0.5),
                                quantile(z, 0.5));
            }
            std::printf("\n");
        }
    }
    la = std::fopen("/proc/loadavg", "r");
    if (la != nullptr && std::fgets(loadavg, sizeof loadavg, la) != nullptr)
        loadavg[std::strcspn(loadavg, "\n")] = '\0';
    if (la != nullptr)
        std::fclose(la);
    std::printf("\nload average at the end: %s (includes the benchmark's own load)\n", loadavg);
    nnf_tensor_free(x);
    nnf_tensor_free(y);
    nnf_tensor_free(z);
    nnf_tensor_free(s);
    return 0;
}
