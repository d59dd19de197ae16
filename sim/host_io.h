// Host-side helpers for the Verilator testbenches: the program and output files (little-endian
// u64 words) and a small deterministic random generator for stall patterns.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace host_io {

// splitmix64: small, fast and the same on every platform.
struct Rng {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    // true with probability pct/100
    bool chance(unsigned pct) { return next() % 100 < pct; }
};

// With --progress, a "progress=<cycles>" line on stderr every kProgressEvery cycles, for the
// tool's progress bar (a power of two, so the check per cycle is a mask).
constexpr uint64_t kProgressEvery = 1ULL << 16;
inline void report_progress(bool on, uint64_t cycles) {
    if (on && (cycles & (kProgressEvery - 1)) == 0) {
        std::fprintf(stderr, "progress=%llu\n", static_cast<unsigned long long>(cycles));
        std::fflush(stderr);
    }
}

// Reads a program file; on failure returns false with a message in `err`.
inline bool read_words(const std::string& path, std::vector<uint64_t>& words, std::string& err) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) {
        err = "cannot open " + path + ": " + std::strerror(errno);
        return false;
    }
    unsigned char b[8];
    size_t got;
    while ((got = std::fread(b, 1, sizeof b, f)) == sizeof b) {
        uint64_t w = 0;
        for (int k = 7; k >= 0; --k) w = (w << 8) | b[k];
        words.push_back(w);
    }
    std::fclose(f);
    if (got != 0) {
        err = path + ": length is not a multiple of 8 bytes";
        return false;
    }
    return true;
}

inline bool write_words(const std::string& path, const std::vector<uint64_t>& words) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) {
        std::fprintf(stderr, "error: cannot write %s: %s\n", path.c_str(), std::strerror(errno));
        return false;
    }
    for (uint64_t w : words) {
        unsigned char b[8];
        for (int k = 0; k < 8; ++k) b[k] = static_cast<unsigned char>(w >> (8 * k));
        std::fwrite(b, 1, sizeof b, f);
    }
    return std::fclose(f) == 0;
}

}  // namespace host_io
