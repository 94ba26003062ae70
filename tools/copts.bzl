"""Compiler flags for every tinyalloc target, in one place."""

# C sources: C11, warnings as errors under gcc and clang.
TA_COPTS = [
    "-std=c11",
    "-Wall",
    "-Wextra",
    "-Wstrict-prototypes",
    "-Wmissing-prototypes",
    "-Wshadow",
    "-Wvla",
    "-Wpointer-arith",
    "-Werror",
]

# C++ test and benchmark sources (GoogleTest needs C++14).
TA_TEST_COPTS = [
    "-std=c++17",
    "-Wall",
    "-Wextra",
    "-Wshadow",
    "-Werror",
]

# The allocation functions as ordinary calls: the compiler may not turn
# malloc + memset into calloc (in the malloc layer, which would call itself),
# drop a malloc/free pair, or assume what free does to memory (the override
# tests read memory free must refuse untouched).
TA_NO_BUILTIN_MALLOC = [
    "-fno-builtin-malloc",
    "-fno-builtin-calloc",
    "-fno-builtin-realloc",
    "-fno-builtin-free",
]
