"""One libFuzzer harness: a fuzzer binary and a regression test of its corpus.

Under --config=fuzz (clang, libFuzzer, ASan, UBSan) `name` is a libFuzzer
binary; otherwise it runs the files given as arguments once, like the
regression test `name`_regression, which replays the seed corpus and every
input that once crashed (corpus/<name>/) on each ordinary `bazel test`.
"""

def fuzz_target(name, srcs, deps = [], data = []):
    corpus = "corpus/" + name
    native.cc_binary(
        name = name,
        srcs = srcs,
        deps = deps + select({
            "//testing/fuzz:fuzzing": [],
            "//conditions:default": ["//testing/fuzz:replay_main"],
        }),
        linkopts = select({
            "//testing/fuzz:fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        data = data,
        tags = ["fuzzer"],
    )
    native.cc_test(
        name = name + "_regression",
        size = "small",
        srcs = srcs,
        deps = deps + ["//testing/fuzz:replay_main"],
        args = [native.package_name() + "/" + corpus],
        data = data + native.glob([corpus + "/**"]),
    )
