"""ta_fuzz_target: a fuzz target's fuzzer binary and its corpus replay test."""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_library", "cc_test")
load("//tools:copts.bzl", "TA_TEST_COPTS")

def ta_fuzz_target(name, deps = [], size = "small"):
    """Targets for fuzz/<name>.cc, which defines LLVMFuzzerTestOneInput.

    <name>: the fuzzer. Under --config=libfuzzer (or --config=afl) linked with
        -fsanitize=fuzzer, which brings libFuzzer's main (or AFL++'s driver);
        otherwise linked with replay_main, so a plain build still builds it and
        it replays the files or directories given on its command line.
    <name>_replay: a test replaying every input in testdata/<name>/ (seeds and
        every crash ever found), in every build configuration.

    Args:
      name: the target's name, <unit>_fuzz.
      deps: what the source needs besides :fuzz_support.
      size: the replay test's size.
    """
    cc_library(
        name = name + "_lib",
        testonly = True,
        srcs = [name + ".cc"],
        copts = TA_TEST_COPTS,
        deps = deps + [":fuzz_support"],
        alwayslink = True,
    )
    cc_binary(
        name = name,
        testonly = True,
        linkopts = select({
            ":libfuzzer": ["-fsanitize=fuzzer"],
            # What afl-clang-fast makes of -fsanitize=fuzzer, spelled out: it
            # cannot see the flag inside the parameter file Bazel links with.
            ":afl": ["-L/usr/lib/afl", "-l:libAFLDriver.a"],
            "//conditions:default": [],
        }),
        deps = [":" + name + "_lib"] + select({
            ":libfuzzer": [],
            ":afl": [],
            "//conditions:default": [":replay_main"],
        }),
    )
    cc_test(
        name = name + "_replay",
        size = size,
        args = ["fuzz/testdata/" + name],
        data = native.glob(["testdata/" + name + "/**"]),
        deps = [
            ":" + name + "_lib",
            ":replay_main",
        ],
    )
