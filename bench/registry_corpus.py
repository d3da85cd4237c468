#!/usr/bin/env python3
"""Lays out registry module repositories' own `examples/` as `terraform init` would:
each example becomes a root module whose calls to its repository (`source = "../../"`,
`"../../modules/x"`) and to the other given repositories
(`terraform-aws-modules/NAME/aws[//modules/x]`) are registry sources, with the module
files copied under `.terraform/modules/KEY/` and listed in
`.terraform/modules/modules.json` (Key, Source, Dir), nested local modules included.
Calls to repositories not given stay remote and unfollowed, as without `init`.

    bench/registry_corpus.py --out DIR NAME=CHECKOUT [NAME=CHECKOUT ...]
    # e.g. s3-bucket=/tmp/s3 rds=/tmp/rds rds-aurora=/tmp/aurora

NAME is the registry name (`terraform-aws-modules/NAME/aws`). Only `.tf` files are copied.
Nothing is downloaded: the checkouts are what `fetch`/`git clone` brought.
"""
import argparse
import json
import os
import re
import shutil

SOURCE = re.compile(r'^(\s*source\s*=\s*)"([^"]*)"', re.M)


def tf_tree(src, dst):
    """Copies the `.tf` files of a module repository (without its examples/ and tests)."""
    for root, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("examples", "test", "tests", "wrappers")]
        for f in files:
            if f.endswith(".tf"):
                rel = os.path.relpath(os.path.join(root, f), src)
                os.makedirs(os.path.dirname(os.path.join(dst, rel)), exist_ok=True)
                shutil.copy(os.path.join(root, f), os.path.join(dst, rel))


def module_blocks(text):
    """(name, source) of each `module` block."""
    out = []
    for m in re.finditer(r'^module\s+"([^"]+)"\s*\{', text, re.M):
        body = text[m.end():]
        s = SOURCE.search(body)
        if s:
            out.append((m.group(1), s.group(2)))
    return out


def local_calls(module_dir):
    """(name, relative source) of the local module calls in a module directory."""
    calls = []
    for f in sorted(os.listdir(module_dir)):
        if f.endswith(".tf"):
            with open(os.path.join(module_dir, f)) as fh:
                calls += [(n, s) for n, s in module_blocks(fh.read()) if s.startswith(("./", "../"))]
    return calls


def install(root, key, source, module_dir, entries):
    """Records `key` at `module_dir` (relative to root) and its nested local modules."""
    entries.append({"Key": key, "Source": source, "Dir": module_dir})
    for name, rel in local_calls(os.path.join(root, module_dir)):
        child = os.path.normpath(os.path.join(module_dir, rel))
        install(root, f"{key}.{name}", rel, child, entries)


def lay_out(repos, out):
    for name, checkout in repos.items():
        examples = os.path.join(checkout, "examples")
        for ex in sorted(os.listdir(examples)) if os.path.isdir(examples) else []:
            src = os.path.join(examples, ex)
            if not os.path.isdir(src):
                continue
            root = os.path.join(out, name, ex)
            os.makedirs(root, exist_ok=True)
            entries = [{"Key": "", "Source": "", "Dir": "."}]
            for f in sorted(os.listdir(src)):
                if not f.endswith(".tf"):
                    continue
                with open(os.path.join(src, f)) as fh:
                    text = fh.read()
                for call, source in module_blocks(text):
                    target, sub = None, ""
                    if source.startswith("../.."):
                        target, sub = name, source[len("../.."):].strip("/")
                        registry = f"registry.terraform.io/terraform-aws-modules/{name}/aws"
                        new = f"terraform-aws-modules/{name}/aws" + (f"//{sub}" if sub else "")
                        text = text.replace(f'"{source}"', f'"{new}"', 1)
                    else:
                        m = re.match(r"terraform-aws-modules/([^/]+)/aws(?://(.*))?$", source)
                        if m and m.group(1) in repos:
                            target, sub = m.group(1), m.group(2) or ""
                            registry = f"registry.terraform.io/terraform-aws-modules/{target}/aws"
                    if target is None:
                        continue
                    key_dir = os.path.join(".terraform", "modules", call)
                    if not os.path.isdir(os.path.join(root, key_dir)):
                        tf_tree(repos[target], os.path.join(root, key_dir))
                    module_dir = os.path.join(key_dir, sub) if sub else key_dir
                    install(root, call, registry + (f"//{sub}" if sub else ""), module_dir, entries)
                with open(os.path.join(root, f), "w") as fh:
                    fh.write(text)
            os.makedirs(os.path.join(root, ".terraform", "modules"), exist_ok=True)
            with open(os.path.join(root, ".terraform", "modules", "modules.json"), "w") as fh:
                json.dump({"Modules": entries}, fh, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("repos", nargs="+", metavar="NAME=CHECKOUT")
    a = ap.parse_args()
    repos = dict(r.split("=", 1) for r in a.repos)
    if os.path.exists(a.out):
        shutil.rmtree(a.out)
    lay_out(repos, a.out)


if __name__ == "__main__":
    main()
