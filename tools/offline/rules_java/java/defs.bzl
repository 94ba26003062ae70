"""Offline stand-in for rules_java: the native Java rules that Bazel 4.2.3's
@bazel_tools//tools/jdk loads while registering its default toolchains.
tinyalloc builds no Java."""

java_binary = native.java_binary
java_import = native.java_import
java_library = native.java_library
java_runtime = native.java_runtime
java_toolchain = native.java_toolchain
