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
