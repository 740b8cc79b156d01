# lit configuration for the concguard suites (checks/, tools/, examples/).
#
# Run through ctest, or by hand:
#   lit -sv --param concguard_site=build/test/lit.site.cfg.py test/checks
import os
import runpy

import lit.formats

site_path = lit_config.params.get("concguard_site")
if not site_path:
    lit_config.fatal("pass --param concguard_site=<build>/test/lit.site.cfg.py")
site = runpy.run_path(site_path)

config.name = "concguard"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".cpp", ".test"]
config.excludes = ["Inputs", "runtime", "bench", "unit", "cppcheck-compare",
                   "CMakeLists.txt"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(site["concguard_build_dir"], "test")

build = site["concguard_build_dir"]
src = site["concguard_source_dir"]
plugin = os.path.join(build, "lib", "libconcguard.so")
concguard_tidy = os.path.join(build, "bin", "concguard-tidy")
stock_tidy = site["stock_clang_tidy"]

config.environment["PATH"] = os.pathsep.join(
    [site["llvm_tools_dir"], config.environment.get("PATH", os.environ["PATH"])])

runner = " ".join([
    site["python"], os.path.join(src, "test", "check_concguard_tidy.py"),
    "--clang-tidy=" + stock_tidy, "--load=" + plugin,
    "--clangxx=" + site["clangxx"],
    "--filecheck=" + os.path.join(site["llvm_tools_dir"], "FileCheck"),
])
config.substitutions.extend([
    ("%check_concguard", runner),
    ("%concguard_tidy", concguard_tidy),
    ("%concguard_rewrite", os.path.join(build, "bin", "concguard-rewrite")),
    ("%runtime_include", os.path.join(src, "rewriter", "runtime", "include")),
    ("%clang_tidy_load", stock_tidy + " --load=" + plugin),
    ("%clangxx", site["clangxx"]),
    ("%python", site["python"]),
    ("%concguard_src", src),
    ("%concguard_build", build),
])
config.available_features.add("llvm-" + site["llvm_version_major"])
