// Verilator testbench for eyeriss_board_top: a host that reaches the accelerator only through
// the board's UART pins, as a PC behind a USB-serial adapter does. Protocol: docs/fpga.md.
//
//   Vharness --program prog.bin --out out.bin --div N [--stall-in PCT] [--seed N]
//            [--max-cycles N] [--vcd FILE] [--bad-stop K] [--ignore-credits]
//            [--break-after-error] [--progress]
//   Vharness --pty --div N [--baud B] [--grace-ms MS]
//
// The board top must have been built with N clocks per bit. The host holds the button for a
// few cycles, waits for the board's hello (status frame 0), then sends the program words
// (8 bytes each, little-endian) bit by bit on rx, starting a word only when it holds a credit,
// and decodes tx: credit frames add credits, data frames are output words (written to out.bin).
// With --stall-in the host pauses one bit time before a byte with probability PCT/100.
// Fault injection, for the tests of the error paths:
//   --bad-stop K         the K-th byte sent (from 0) gets a 0 stop bit: a framing error
//   --ignore-credits     send words as fast as the line allows, credits or not
//   --progress           "progress=<cycles>" on stderr every 65,536 cycles (host_io.h)
//   --break-after-error  on a non-zero status, hold rx low for a break (the board resets),
//                        wait for the hello and run the program again from the start
// Stops:
//   - all words sent and an output word equal to the last program word (the MARK echo):
//     prints "cycles=<N>" and a "link ..." line of counts, exits 0;
//   - a non-zero status frame (without --break-after-error), a byte from the board with a bad
//     stop bit, or an unknown frame: prints "at cycle <N>: <why>" and the "link ..." line, exits 4;
//   - --max-cycles reached: exits 3.
// Bad arguments or files exit 1. Runs are deterministic for a given --seed.
//
// With --pty the host is another program: the harness opens a pseudo-terminal, prints
// "pty=<path of its slave side>" and serves the board's UART on it until its stdin closes
// (pty_serve below says how bytes, breaks and baud rates cross).

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "Veyeriss_board_top.h"
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
constexpr int kExitLink = 4;
// The board resets after 20 low bit times; hold longer so the reset surely happens.
constexpr uint64_t kBreakBits = 30;

constexpr uint8_t kTagStatus = 'S';
constexpr uint8_t kTagCredit = 'C';
constexpr uint8_t kTagData = 'D';
constexpr uint8_t kTagIdent = 'I';

struct Args {
    std::string program, out, vcd;
    unsigned stall_in = 0;
    uint64_t div = 0;
    uint64_t seed = 1;
    uint64_t max_cycles = 2000000000ULL;
    int64_t bad_stop = -1;
    bool ignore_credits = false;
    bool break_after_error = false;
    bool progress = false;
    bool pty = false;
    uint64_t baud = 115200;
    uint64_t grace_ms = 500;
};

[[noreturn]] void usage(const std::string& msg) {
    std::fprintf(stderr,
                 "error: %s\nusage: Vharness --program prog.bin --out out.bin --div N "
                 "[--stall-in PCT] [--seed N] [--max-cycles N] [--vcd FILE] [--bad-stop K] "
                 "[--ignore-credits] [--break-after-error] [--progress]\n"
                 "       Vharness --pty --div N [--baud B] [--grace-ms MS]\n",
                 msg.c_str());
    std::exit(kExitUsage);
}

uint64_t parse_u64(const std::string& flag, const char* s) {
    errno = 0;
    char* end = nullptr;
    unsigned long long v = std::strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-') usage("bad number for " + flag + ": " + s);
    return v;
}

Args parse_args(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string f = argv[i];
        if (f.rfind("+verilator", 0) == 0) continue;  // Verilator runtime options
        if (f == "--ignore-credits") {
            a.ignore_credits = true;
            continue;
        }
        if (f == "--break-after-error") {
            a.break_after_error = true;
            continue;
        }
        if (f == "--progress") {
            a.progress = true;
            continue;
        }
        if (f == "--pty") {
            a.pty = true;
            continue;
        }
        if (i + 1 >= argc) usage("missing value for " + f);
        const char* v = argv[++i];
        if (f == "--program") a.program = v;
        else if (f == "--out") a.out = v;
        else if (f == "--vcd") a.vcd = v;
        else if (f == "--div") a.div = parse_u64(f, v);
        else if (f == "--stall-in") a.stall_in = static_cast<unsigned>(parse_u64(f, v));
        else if (f == "--seed") a.seed = parse_u64(f, v);
        else if (f == "--max-cycles") a.max_cycles = parse_u64(f, v);
        else if (f == "--bad-stop") a.bad_stop = static_cast<int64_t>(parse_u64(f, v));
        else if (f == "--baud") a.baud = parse_u64(f, v);
        else if (f == "--grace-ms") a.grace_ms = parse_u64(f, v);
        else usage("unknown option " + f);
    }
    if (!a.pty && (a.program.empty() || a.out.empty()))
        usage("--program and --out are required (or --pty)");
    if (a.div < 4 || a.div > 1000000) usage("--div must be 4..1000000 clocks per bit");
    if (a.stall_in > 99) usage("--stall-in is 0..99");
    if (a.grace_ms < 1 || a.grace_ms > 60000) usage("--grace-ms is 1..60000");
    return a;
}

// The host's transmitter: a queue of (level, cycles) segments played onto the board's rx.
struct Line {
    std::deque<std::pair<int, uint64_t>> segs;
    bool idle() const { return segs.empty(); }
    void byte(uint8_t b, uint64_t div, bool bad_stop) {
        segs.push_back({0, div});
        for (int k = 0; k < 8; ++k) segs.push_back({(b >> k) & 1, div});
        segs.push_back({bad_stop ? 0 : 1, div});
    }
    void hold(int level, uint64_t cycles) { segs.push_back({level, cycles}); }
    int tick() {
        if (segs.empty()) return 1;
        int level = segs.front().first;
        if (--segs.front().second == 0) segs.pop_front();
        return level;
    }
};

// The host's receiver: samples the board's tx mid-bit. tick() returns a byte (0..255), kBad for
// a byte whose stop bit was 0, or kNone.
struct Receiver {
    static constexpr int kNone = -1;
    static constexpr int kBad = 256;
    enum State { kIdle, kStart, kData, kStop } state = kIdle;
    uint64_t div = 0, cnt = 0;
    int bit = 0;
    unsigned sh = 0;
    bool armed = true;  // a start bit counts only after the line was seen high
    void reset() {
        state = kIdle;
        armed = false;
    }
    int tick(int line) {
        switch (state) {
            case kIdle:
                if (line) armed = true;
                else if (armed) {
                    state = kStart;
                    cnt = div / 2;
                }
                return kNone;
            case kStart:
                if (--cnt) return kNone;
                if (line) state = kIdle;
                else {
                    state = kData;
                    cnt = div;
                    bit = 0;
                    sh = 0;
                }
                return kNone;
            case kData:
                if (--cnt) return kNone;
                sh |= static_cast<unsigned>(line) << bit;
                cnt = div;
                if (++bit == 8) state = kStop;
                return kNone;
            case kStop:
                if (--cnt) return kNone;
                state = kIdle;
                armed = line;
                return line ? static_cast<int>(sh) : kBad;
        }
        return kNone;
    }
};

struct Link {
    uint64_t bytes_to_board = 0, bytes_from_board = 0;
    uint64_t credit_frames = 0, credits_granted = 0, credit_wait_cycles = 0;
    uint64_t max_credits = 0;
    unsigned status_seen = 0;
    unsigned breaks = 0;
    uint64_t design = 0;  // the identity frame's word
    unsigned leds_seen = 0;  // every LED that was on at some cycle (the sim top's are active high)
    unsigned leds_end = 0;   // the LEDs at the last cycle
};

uint64_t le_word(const std::vector<uint8_t>& b) {
    uint64_t w = 0;
    for (int k = 7; k >= 0; --k) w = (w << 8) | b[k];
    return w;
}

void print_link(const Link& l) {
    std::printf("link bytes_to_board=%" PRIu64 " bytes_from_board=%" PRIu64
                " credit_frames=%" PRIu64 " credits=%" PRIu64 " credit_wait_cycles=%" PRIu64
                " max_credits=%" PRIu64 " status=0x%02x breaks=%u design=0x%016" PRIx64
                " leds_seen=0x%02x leds_end=0x%02x\n",
                l.bytes_to_board, l.bytes_from_board, l.credit_frames, l.credits_granted,
                l.credit_wait_cycles, l.max_credits, l.status_seen, l.breaks, l.design,
                l.leds_seen, l.leds_end);
}

// ---- --pty: the UART served on a pseudo-terminal ----
//
// The host program opens the slave side as it would a USB-serial adapter. Bytes it writes are
// played onto the board's rx at DIV clocks per bit; bytes the board sends on tx are written back
// as soon as their stop bit is sampled (and dropped, as an adapter's full buffer drops them,
// when the host does not read).
//
// Simulated time waits for the host: while the host holds credits (counted from the board's
// credit frames and the words received since) or is inside a word, and has nothing queued, the
// clock stops for up to --grace-ms (default 500) of wall time until its next byte arrives. So
// a host that answers promptly sees exactly the cycles of the in-process host above, which
// starts a word the cycle the line is free. A host that stays silent longer is taken to be
// pausing (or done): the clock runs on, and its next byte starts on the next free bit time.
//
// Two things do not cross a Linux pty: a break (TIOCSBRK on the slave does nothing) and the
// line's baud rate (only stored). The harness reads both from the slave's state instead:
//   - a flush of the slave's queues (tcflush, which `eyeriss-gen board` does right after every
//     break it sends) is the break: rx is held low for kBreakBits bit times;
//   - the slave's output speed is the host's baud rate: a byte sent at any other rate than
//     --baud reaches rx with a 0 stop bit, as a real receiver would frame it.
constexpr uint64_t kStdinCheckEvery = 1ULL << 14;

// The classic termios speeds and their rates in baud.
const std::pair<speed_t, uint64_t> kSpeeds[] = {
    {B1200, 1200},       {B2400, 2400},       {B4800, 4800},       {B9600, 9600},
    {B19200, 19200},     {B38400, 38400},     {B57600, 57600},     {B115200, 115200},
    {B230400, 230400},   {B460800, 460800},   {B500000, 500000},   {B576000, 576000},
    {B921600, 921600},   {B1000000, 1000000}, {B1152000, 1152000}, {B1500000, 1500000},
    {B2000000, 2000000}, {B3000000, 3000000},
};

uint64_t speed_baud(speed_t s) {
    for (const auto& [k, v] : kSpeeds)
        if (k == s) return v;
    return 0;
}

// The slave's output rate in baud. Hosts may set any rate through termios2 (BOTHER), as the
// serialport crate does, which the classic termios calls report as BOTHER alone.
struct Termios2 {  // the kernel's struct termios2, which <termios.h> cannot be mixed with
    tcflag_t c_iflag, c_oflag, c_cflag, c_lflag;
    cc_t c_line;
    cc_t c_cc[19];
    speed_t c_ispeed, c_ospeed;
};
uint64_t host_baud(int slave) {
#ifdef __linux__
    Termios2 t2{};
    if (ioctl(slave, _IOR('T', 0x2A, Termios2), &t2) == 0) return t2.c_ospeed;
#endif
    termios t{};
    tcgetattr(slave, &t);
    return speed_baud(cfgetospeed(&t));
}

struct Pty {
    int master = -1;
    int keep = -1;  // our own slave fd: without one, the master reads EIO between hosts
    std::string path;
};

bool open_pty(Pty& p, uint64_t baud, std::string& err) {
    p.master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (p.master < 0 || grantpt(p.master) != 0 || unlockpt(p.master) != 0) {
        err = std::string("cannot open a pseudo-terminal: ") + std::strerror(errno);
        return false;
    }
    const char* name = ptsname(p.master);
    if (!name) {
        err = "ptsname failed";
        return false;
    }
    p.path = name;
    p.keep = open(name, O_RDWR | O_NOCTTY);
    if (p.keep < 0) {
        err = "cannot open " + p.path + ": " + std::strerror(errno);
        return false;
    }
    // Raw, at the design's rate, as an adapter comes up; a host sets its own mode anyway.
    termios t{};
    tcgetattr(p.keep, &t);
    cfmakeraw(&t);
    for (const auto& [s, rate] : kSpeeds)
        if (rate == baud) {
            cfsetispeed(&t, s);
            cfsetospeed(&t, s);
        }
    tcsetattr(p.keep, TCSANOW, &t);
    int one = 1;
    // Packet mode: each read carries a control byte, which reports the slave's flushes.
    if (ioctl(p.master, TIOCPKT, &one) != 0) {
        err = std::string("cannot set packet mode: ") + std::strerror(errno);
        return false;
    }
    return true;
}

// true once our stdin has closed: the tool that started us is gone.
bool stdin_closed(int timeout_ms) {
    pollfd f{0, POLLIN, 0};
    if (poll(&f, 1, timeout_ms) <= 0) return false;
    char b[64];
    return read(0, b, sizeof b) <= 0;
}

template <class Edge>
int pty_serve(const Args& args, Veyeriss_board_top& top, Edge& edge) {
    Pty pty;
    std::string err;
    if (!open_pty(pty, args.baud, err)) usage(err);
    std::printf("pty=%s\n", pty.path.c_str());
    std::fflush(stdout);

    Line line;
    Receiver rx;
    rx.div = args.div;
    std::deque<uint8_t> queued;  // bytes from the host not yet on the line
    bool in_break = false;
    bool quiet = true;     // the host stayed silent past the grace time
    int64_t credits = 0;   // the host's, as the board's frames and its words imply
    int byte_in_word = 0;  // bytes of the current host word on the line
    int tag = -1;          // the board frame being received, and its payload bytes so far
    size_t got_payload = 0;
    uint64_t dropped = 0, cycles = 0;

    // Moves whatever the pty holds into `queued`; a flush report starts a break.
    auto take = [&](int timeout_ms) {
        pollfd f[2] = {{pty.master, POLLIN, 0}, {0, POLLIN, 0}};
        if (poll(f, timeout_ms > 0 ? 2 : 1, timeout_ms) <= 0) return;
        if (timeout_ms > 0 && (f[1].revents & (POLLIN | POLLHUP)) && stdin_closed(0))
            std::exit(kExitOk);
        if (!(f[0].revents & POLLIN)) return;
        uint8_t buf[4096];
        ssize_t n = read(pty.master, buf, sizeof buf);
        if (n <= 0) return;
        if (buf[0] == TIOCPKT_DATA) {
            queued.insert(queued.end(), buf + 1, buf + n);
            quiet = false;
        } else if (buf[0] & (TIOCPKT_FLUSHREAD | TIOCPKT_FLUSHWRITE)) {
            queued.clear();
            line.segs.clear();
            line.hold(0, kBreakBits * args.div);
            line.hold(1, 2 * args.div);
            in_break = true;
            credits = 0;
            byte_in_word = 0;
            tag = -1;
            rx.reset();
        }
    };

    for (;;) {
        if (in_break && line.idle()) in_break = false;
        if (!in_break && line.idle()) {
            if (queued.empty()) {
                bool expect = byte_in_word != 0 || (credits > 0 && !quiet);
                if (expect) {
                    take(static_cast<int>(args.grace_ms));
                    if (queued.empty() && !in_break) quiet = true;
                } else if ((cycles & 255) == 0) {
                    take(0);
                }
            }
            if (!queued.empty() && !in_break) {
                bool wrong_rate = host_baud(pty.keep) != args.baud;
                if (byte_in_word == 0) --credits;
                byte_in_word = (byte_in_word + 1) % 8;
                line.byte(queued.front(), args.div, wrong_rate);
                queued.pop_front();
            }
        }
        top.rx = line.tick();
        edge(0);
        int got = rx.tick(top.tx);
        edge(1);
        ++cycles;
        if ((cycles & (kStdinCheckEvery - 1)) == 0 && stdin_closed(0)) break;
        // What the board sent before the break reset it is not passed on: the host flushed
        // it already, and on a real line the break comes before the flush, not after it.
        if (got == Receiver::kNone || got == Receiver::kBad || in_break) continue;
        uint8_t b = static_cast<uint8_t>(got);
        if (write(pty.master, &b, 1) != 1) ++dropped;
        // Follow the frames only as far as the credits need.
        if (tag < 0) {
            tag = b;
            got_payload = 0;
            continue;
        }
        ++got_payload;
        if (tag == kTagCredit) credits += b;
        if (tag == kTagStatus && got_payload == 1 && b == 0) {
            // The hello: the board has just been reset, and holds all its credits again.
            credits = 0;
            byte_in_word = 0;
        }
        size_t need = (tag == kTagData || tag == kTagIdent) ? 8 : 1;
        if (got_payload == need) tag = -1;
    }
    top.final();
    std::fprintf(stderr, "pty server: %" PRIu64 " cycles, %" PRIu64 " bytes dropped\n", cycles,
                 dropped);
    return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
    Args args = parse_args(argc, argv);
    std::vector<uint64_t> prog;
    std::string err;
    if (!args.pty) {
        if (!host_io::read_words(args.program, prog, err)) usage(err);
        if (prog.empty()) usage(args.program + ": empty program");
    }
    const uint64_t last = prog.empty() ? 0 : prog.back();
    const size_t n = prog.size();

    auto ctx = std::make_unique<VerilatedContext>();
    ctx->commandArgs(argc, argv);
    auto top = std::make_unique<Veyeriss_board_top>(ctx.get(), "top");

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

    Link link;
    top->btn = 1;
    top->rx = 1;
    for (int k = 0; k < kResetCycles; ++k) {
        edge(0);
        edge(1);
        link.leds_seen |= top->led;
    }
    top->btn = 0;
    if (args.pty) return pty_serve(args, *top, edge);

    host_io::Rng rng{args.seed};
    Line line;
    Receiver rx;
    rx.div = args.div;
    std::vector<uint64_t> out;

    // Host state, restarted after a break.
    uint64_t credits = 0;
    size_t next_word = 0;      // words whose first byte has been queued
    int byte_in_word = 8;      // bytes of prog[next_word - 1] queued; 8 when between words
    bool hello = false;        // the board's first status frame has been seen
    bool pause_taken = false;  // the --stall-in pause before the next byte is over
    int tag = -1;              // the frame being received, and its payload so far
    std::vector<uint8_t> payload;
    bool in_break = false;
    uint64_t bytes_queued = 0;  // over the whole run, for --bad-stop

    auto restart = [&]() {
        credits = 0;
        next_word = 0;
        byte_in_word = 8;
        hello = false;
        pause_taken = false;
        tag = -1;
        payload.clear();
        out.clear();
        rx.reset();
    };

    uint64_t cycles = 0;
    int status = kExitTimeout;
    std::string why;
    while (cycles < args.max_cycles && status == kExitTimeout) {
        if (in_break && line.idle()) in_break = false;
        if (!in_break && line.idle()) {
            bool word_open = byte_in_word < 8;
            bool can_start = next_word < n && (credits > 0 || args.ignore_credits);
            if (word_open || can_start) {
                if (args.stall_in && !pause_taken && rng.chance(args.stall_in)) {
                    line.hold(1, args.div);
                    pause_taken = true;
                } else {
                    if (!word_open) {
                        if (credits > 0) --credits;
                        ++next_word;
                        byte_in_word = 0;
                    }
                    uint8_t b = static_cast<uint8_t>(prog[next_word - 1] >> (8 * byte_in_word));
                    ++byte_in_word;
                    bool bad = args.bad_stop >= 0 && bytes_queued == uint64_t(args.bad_stop);
                    line.byte(b, args.div, bad);
                    ++bytes_queued;
                    ++link.bytes_to_board;
                    pause_taken = false;
                }
            } else if (next_word < n && hello) {
                ++link.credit_wait_cycles;
            }
        }
        top->rx = line.tick();
        edge(0);
        int got = rx.tick(top->tx);
        edge(1);
        link.leds_seen |= top->led;
        ++cycles;
        host_io::report_progress(args.progress, cycles);
        if (in_break || got == Receiver::kNone) continue;
        if (got == Receiver::kBad) {
            why = "the board sent a byte with a 0 stop bit";
            status = kExitLink;
            break;
        }
        ++link.bytes_from_board;
        if (tag < 0) {
            tag = got;
            if (tag != kTagStatus && tag != kTagCredit && tag != kTagData && tag != kTagIdent) {
                char buf[80];
                std::snprintf(buf, sizeof buf, "unknown frame tag 0x%02x from the board", tag);
                why = buf;
                status = kExitLink;
            }
            continue;
        }
        payload.push_back(static_cast<uint8_t>(got));
        size_t need = (tag == kTagData || tag == kTagIdent) ? 8 : 1;
        if (payload.size() < need) continue;
        int t = tag;
        tag = -1;
        if (t == kTagIdent) {
            link.design = le_word(payload);
        } else if (t == kTagData) {
            uint64_t w = le_word(payload);
            out.push_back(w);
            if (next_word == n && byte_in_word == 8 && w == last) status = kExitOk;
        } else if (t == kTagCredit) {
            ++link.credit_frames;
            link.credits_granted += payload[0];
            credits += payload[0];
            if (credits > link.max_credits) link.max_credits = credits;
        } else if (!hello) {
            if (payload[0] != 0) {
                why = "the board's first status frame is not 0";
                status = kExitLink;
            }
            hello = true;
        } else {
            link.status_seen |= payload[0];
            if (args.break_after_error && link.breaks == 0) {
                // Reset the board through the line and run the program again.
                line.segs.clear();
                line.hold(0, kBreakBits * args.div);
                line.hold(1, 2 * args.div);
                in_break = true;
                ++link.breaks;
                restart();
            } else {
                char buf[120];
                std::snprintf(buf, sizeof buf,
                              "board status 0x%02x (bit 0 framing error, bit 1 receive overflow)",
                              payload[0]);
                why = buf;
                status = kExitLink;
            }
        }
        payload.clear();
    }
    link.leds_end = top->led;
    top->final();
#if VM_TRACE
    if (vcd) vcd->close();
#endif
    bool wrote = host_io::write_words(args.out, out);
    if (status == kExitOk) {
        std::printf("cycles=%" PRIu64 "\n", cycles);
    } else if (status == kExitTimeout) {
        std::printf("timeout after %" PRIu64 " cycles: %zu of %zu program words sent, %zu "
                    "output words, %" PRIu64 " credits unused\n",
                    cycles, next_word, n, out.size(), credits);
    } else {
        std::printf("at cycle %" PRIu64 ": %s\n", cycles, why.c_str());
    }
    print_link(link);
    std::fflush(stdout);
    if (!wrote && status == kExitOk) status = kExitUsage;
    return status;
}
