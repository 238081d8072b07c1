"""cc_library from .proto files using the system protoc (Debian's protobuf-compiler).

Bazel 4's native proto rules want to build protoc from source (download); the
system protoc and libprotobuf are the same version (3.21), so a genrule suffices.
"""

def system_cc_proto_library(name, srcs, deps = [], visibility = None):
    hdrs = [s.replace(".proto", ".pb.h") for s in srcs]
    ccs = [s.replace(".proto", ".pb.cc") for s in srcs]
    native.genrule(
        name = name + "_gen",
        srcs = srcs,
        outs = hdrs + ccs,
        cmd = "protoc --proto_path=. --cpp_out=$(GENDIR) $(SRCS)",
    )
    native.cc_library(
        name = name,
        srcs = ccs,
        hdrs = hdrs,
        # generated code is not ours: no -Werror on it
        copts = ["-Wno-unused-parameter", "-Wno-error"],
        deps = deps + ["//third_party:protobuf"],
        visibility = visibility,
    )
