// Verilator host harness for eyeriss_top: the C++ counterpart of tests/fixtures/host_tb.v.
//
//   Vharness --program prog.bin --out out.bin [--stall-in PCT] [--stall-out PCT]
//            [--seed N] [--max-cycles N] [--vcd FILE] [--progress]
//
// Holds reset for a few cycles, then offers the program words (little-endian u64) on the input
// stream and takes every output word into out.bin (little-endian u64). With --stall-in a cycle
// deasserts in_valid with probability PCT/100; with --stall-out it deasserts out_ready. Stops:
//   - all program words consumed and an output word equal to the last program word (the MARK
//     echo every program ends with): prints "cycles=<N>" and exits 0;
//   - --max-cycles reached: prints how many words were consumed, exits 3.
// Bad arguments or files exit 1. Runs are deterministic for a given --seed.
// It does not stop on an output word starting 0xEE: psum data can look like a controller error
// word, so only the reader, which knows where response headers fall, can tell (a controller that
// stopped on an error shows up as a timeout with the error word at a header position).
// --progress prints "progress=<cycles>" on stderr every 65,536 cycles (host_io.h).
// --vcd needs a harness built with Verilator's --trace (VM_TRACE); otherwise it is an error.

#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "Veyeriss_top.h"
#include "host_io.h"
#include "verilated.h"
#if VM_TRACE
#include "verilated_vcd_c.h"
#endif

namespace {

constexpr int kResetCycles = 3;
constexpr int kExitOk = 0;
constexpr int kExitUsage = 1;
constexpr int kExitTimeout = 3;

struct Args {
    std::string program, out, vcd;
    unsigned stall_in = 0, stall_out = 0;
    uint64_t seed = 1;
    uint64_t max_cycles = 2000000000ULL;
    bool progress = false;
};

[[noreturn]] void usage(const char* msg) {
    std::fprintf(stderr,
                 "error: %s\nusage: Vharness --program prog.bin --out out.bin [--stall-in PCT] "
                 "[--stall-out PCT] [--seed N] [--max-cycles N] [--vcd FILE] [--progress]\n",
                 msg);
    std::exit(kExitUsage);
}

uint64_t parse_u64(const char* flag, const char* s) {
    errno = 0;
    char* end = nullptr;
    unsigned long long v = std::strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-') {
        usage((std::string("bad number for ") + flag + ": " + s).c_str());
    }
    return v;
}

Args parse_args(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string f = argv[i];
        if (f.rfind("+verilator", 0) == 0) continue;  // Verilator runtime options
        if (f == "--progress") {
            a.progress = true;
            continue;
        }
        if (i + 1 >= argc) usage(("missing value for " + f).c_str());
        const char* v = argv[++i];
        if (f == "--program") a.program = v;
        else if (f == "--out") a.out = v;
        else if (f == "--vcd") a.vcd = v;
        else if (f == "--stall-in") a.stall_in = parse_u64("--stall-in", v);
        else if (f == "--stall-out") a.stall_out = parse_u64("--stall-out", v);
        else if (f == "--seed") a.seed = parse_u64("--seed", v);
        else if (f == "--max-cycles") a.max_cycles = parse_u64("--max-cycles", v);
        else usage(("unknown option " + f).c_str());
    }
    if (a.program.empty() || a.out.empty()) usage("--program and --out are required");
    if (a.stall_in > 100 || a.stall_out > 100) usage("stall percentages are 0..100");
    if (a.stall_in == 100) usage("--stall-in 100 would never send a word");
    if (a.stall_out == 100) usage("--stall-out 100 would never take a word");
    return a;
}

std::vector<uint64_t> read_program(const std::string& path) {
    std::vector<uint64_t> words;
    std::string err;
    if (!host_io::read_words(path, words, err)) usage(err.c_str());
    if (words.empty()) usage((path + ": empty program").c_str());
    return words;
}

}  // namespace

int main(int argc, char** argv) {
    Args args = parse_args(argc, argv);
    std::vector<uint64_t> prog = read_program(args.program);
    const uint64_t last = prog.back();

    auto ctx = std::make_unique<VerilatedContext>();
    ctx->commandArgs(argc, argv);
    auto top = std::make_unique<Veyeriss_top>(ctx.get(), "top");

#if VM_TRACE
    std::unique_ptr<VerilatedVcdC> vcd;
    if (!args.vcd.empty()) {
        ctx->traceEverOn(true);
        vcd = std::make_unique<VerilatedVcdC>();
        top->trace(vcd.get(), 99);
        vcd->open(args.vcd.c_str());
    }
#else
    if (!args.vcd.empty()) usage("--vcd needs a harness built with Verilator --trace");
#endif
    uint64_t time = 0;
    auto edge = [&](int clk) {
        top->clk = clk;
        top->eval();
#if VM_TRACE
        if (vcd) vcd->dump(time);
#endif
        ++time;
    };

    top->rst = 1;
    top->in_valid = 0;
    top->in_data = 0;
    top->out_ready = 0;
    for (int k = 0; k < kResetCycles; ++k) {
        edge(0);
        edge(1);
    }
    top->rst = 0;

    host_io::Rng rng{args.seed};
    std::vector<uint64_t> out;
    const size_t n = prog.size();
    size_t consumed = 0;
    uint64_t cycles = 0;
    int status = kExitTimeout;
    while (cycles < args.max_cycles) {
        // Drive this cycle's inputs while the clock is low, let them settle, sample the
        // handshakes, then clock.
        bool stall_in = rng.chance(args.stall_in);
        bool stall_out = rng.chance(args.stall_out);
        bool in_valid = consumed < n && !stall_in;
        top->in_valid = in_valid;
        top->in_data = prog[consumed < n ? consumed : n - 1];
        top->out_ready = !stall_out;
        edge(0);
        bool in_fire = in_valid && top->in_ready;
        bool out_fire = top->out_valid && !stall_out;
        uint64_t word = top->out_data;
        edge(1);
        ++cycles;
        host_io::report_progress(args.progress, cycles);
        if (in_fire) ++consumed;
        if (out_fire) {
            out.push_back(word);
            if (consumed == n && word == last) {
                status = kExitOk;
                break;
            }
        }
    }
    top->final();
#if VM_TRACE
    if (vcd) vcd->close();
#endif
    bool wrote = host_io::write_words(args.out, out);
    if (status == kExitOk) {
        std::printf("cycles=%" PRIu64 "\n", cycles);
    } else if (status == kExitTimeout) {
        std::printf("timeout after %" PRIu64 " cycles: %zu of %zu program words consumed, %zu "
                    "output words\n",
                    cycles, consumed, n, out.size());
    }
    std::fflush(stdout);
    if (!wrote && status == kExitOk) status = kExitUsage;
    return status;
}
