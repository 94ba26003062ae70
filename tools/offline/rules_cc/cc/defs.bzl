"""Offline stand-in for rules_cc: the native C/C++ rules under rules_cc's names.

Debian's bazel-rules-cc is too new for Bazel 4.2.3, and the real rules_cc cannot be
downloaded here. Bazel's own @bazel_tools and @local_config_cc load the toolchain
rules from here too. Users with internet get the real rules_cc, which exposes the
same names.
"""

cc_library = native.cc_library
cc_binary = native.cc_binary
cc_test = native.cc_test
cc_import = native.cc_import
cc_toolchain = native.cc_toolchain
cc_toolchain_suite = native.cc_toolchain_suite
cc_proto_library = native.cc_proto_library
objc_library = native.objc_library
