"""Lays out a Rust sysroot from the segmented toolchain wheels (scripts/windows-check).

Each wheel stores its files under <package>/data/, some at their sysroot path below a component
directory, some flattened; the components' manifest.in files name where every file goes. Debug
symbols (.pdb), documentation and the debugger scripts are left out.
"""
import os
import shutil
import sys
import zipfile


def main(wheel_dir, root):
    wheels = [zipfile.ZipFile(os.path.join(wheel_dir, name))
              for name in sorted(os.listdir(wheel_dir)) if name.endswith(".whl")]
    destinations = {}
    for wheel in wheels:
        for name in wheel.namelist():
            if name.endswith("/manifest.in"):
                for line in wheel.read(name).decode().splitlines():
                    if line.startswith("file:"):
                        path = line[len("file:"):]
                        destinations.setdefault(os.path.basename(path), []).append(path)
    placed = 0
    for wheel in wheels:
        for name in wheel.namelist():
            parts = name.split("/")
            if len(parts) < 3 or parts[1] != "data" or name.endswith("/"):
                continue
            for dest in destinations.get(parts[-1], []):
                wanted = dest.startswith("bin/") or dest.startswith("lib/rustlib/x86_64")
                if not wanted or dest.endswith(".pdb"):
                    continue
                out = os.path.join(root, dest)
                os.makedirs(os.path.dirname(out), exist_ok=True)
                with wheel.open(name) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                placed += 1
    for tool in ("bin/rustc.exe", "bin/cargo.exe", "bin/clippy-driver.exe",
                 "lib/rustlib/x86_64-pc-windows-msvc/bin/rust-lld.exe"):
        if not os.path.exists(os.path.join(root, tool)):
            sys.exit(f"sysroot.py: {tool} is in none of the wheels")
    print(f"sysroot: {placed} files")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
