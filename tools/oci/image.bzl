"""oci_image: a reproducible OCI image of one cc_binary, built from files on this
machine (no base image, nothing downloaded). See build_image.py for what goes in.

  oci_image(name = "order-service", binary = "//services/order:order-service",
            ports = [8081], env = {"SERVER_PORT": "8081"})

gives :order-service.tar (OCI archive, also loadable by `docker load`),
:order-service.digest (manifest digest), :order-service.sizes.json, and
`bazel run :order-service.load` (podman load, plus docker load when Docker runs).
"""

def _oci_image_impl(ctx):
    binary = ctx.executable.binary
    args = [
        ctx.file._builder.path,
        "--binary", binary.path,
        "--name", ctx.attr.program or binary.basename,
        "--repository", ctx.attr.repository,
        "--tag", ctx.attr.tag,
        "--out", ctx.outputs.tar.path,
        "--digest", ctx.outputs.digest.path,
        "--sizes", ctx.outputs.sizes.path,
    ]
    for p in ctx.attr.ports:
        args += ["--port", str(p)]
    for k, v in sorted(ctx.attr.env.items()):
        args += ["--env", "%s=%s" % (k, v)]
    for a in ctx.attr.args:
        args.append("--arg=" + a)
    if ctx.attr.health_check:
        args.append("--health-check")
    ctx.actions.run(
        executable = "/usr/bin/python3",
        arguments = args,
        inputs = [binary, ctx.file._builder],
        outputs = [ctx.outputs.tar, ctx.outputs.digest, ctx.outputs.sizes],
        mnemonic = "OciImage",
        progress_message = "Building image %s" % ctx.attr.repository,
        # The layer takes the host's shared libraries, CA certificates and
        # tzdata, which Bazel does not track: never serve it from a cache.
        execution_requirements = {"no-cache": "1", "no-remote": "1"},
    )
    files = [ctx.outputs.tar, ctx.outputs.digest, ctx.outputs.sizes]
    return [DefaultInfo(files = depset(files), runfiles = ctx.runfiles(files = files))]

_oci_image = rule(
    implementation = _oci_image_impl,
    attrs = {
        "binary": attr.label(executable = True, cfg = "target", mandatory = True),
        "program": attr.string(doc = "name under /app (default: the binary's)"),
        "repository": attr.string(mandatory = True),
        "tag": attr.string(default = "latest"),
        "ports": attr.int_list(),
        "env": attr.string_dict(),
        "args": attr.string_list(doc = "default arguments (the image's Cmd)"),
        "health_check": attr.bool(default = True, doc = "the binary answers --health-check"),
        "_builder": attr.label(default = "//tools/oci:build_image.py", allow_single_file = True),
    },
    outputs = {
        "tar": "%{name}.tar",
        "digest": "%{name}.digest",
        "sizes": "%{name}.sizes.json",
    },
)

def oci_image(name, visibility = None, **kwargs):
    _oci_image(name = name, visibility = visibility, **kwargs)
    native.sh_binary(
        name = name + ".load",
        srcs = ["//tools/oci:load.sh"],
        args = ["$(rootpath :%s.tar)" % name],
        data = [":%s.tar" % name],
        visibility = visibility,
    )
