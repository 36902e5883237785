"""Generate the Python code of the protobuf contract: the one command, and its drift check.

    python proto/generate.py           # write adapters/grpc/generated/
    python proto/generate.py --check   # exit 1 if the committed code differs

The ``.proto`` files under ``proto/`` are the source of truth. The generated modules
live in the ``adapters.grpc.generated`` package, so their imports are rewritten from
``ssbtek.v1`` to ``adapters.grpc.generated.ssbtek.v1``; the descriptors keep their
public names (``ssbtek/v1/query_service.proto``), which reflection shows to clients.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
TARGET = ROOT / "adapters" / "grpc" / "generated"
PACKAGE = "adapters.grpc.generated"
_IMPORT = re.compile(r"^(from|import) ssbtek\.v1\b", re.MULTILINE)
_QUALIFIED = re.compile(r"(?<![\w.])ssbtek\.v1\.(\w+_pb2)\b")


def _googleapis_root() -> Path:
    """Where googleapis-common-protos installed ``google/type/date.proto`` and friends."""
    import google.type.date_pb2

    return Path(google.type.date_pb2.__file__).resolve().parents[2]


def _bin(name: str) -> Path:
    """A plugin installed beside this interpreter (the virtual environment's bin/)."""
    return Path(sys.executable).parent / name


def generate(into: Path) -> None:
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    command = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"--proto_path={PROTO_ROOT}",
        f"--proto_path={_googleapis_root()}",
        f"--plugin=protoc-gen-mypy={_bin('protoc-gen-mypy')}",
        f"--plugin=protoc-gen-mypy_grpc={_bin('protoc-gen-mypy_grpc')}",
        f"--python_out={into}",
        f"--grpc_python_out={into}",
        f"--mypy_out={into}",
        f"--mypy_grpc_out={into}",
        *protos,
    ]
    subprocess.run(command, check=True, cwd=PROTO_ROOT)
    for path in into.rglob("*.py*"):
        text = path.read_text()
        text = _IMPORT.sub(lambda m: f"{m.group(1)} {PACKAGE}.ssbtek.v1", text)
        text = _QUALIFIED.sub(lambda m: f"{PACKAGE}.ssbtek.v1.{m.group(1)}", text)
        path.write_text(text)
    for package in [into, *(p for p in into.rglob("*") if p.is_dir())]:
        (package / "__init__.py").touch()


def _differences(left: Path, right: Path) -> list[str]:
    names = {
        p.relative_to(left) for p in left.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    }
    names |= {
        p.relative_to(right)
        for p in right.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    return sorted(
        str(name)
        for name in names
        if not (left / name).is_file()
        or not (right / name).is_file()
        or not filecmp.cmp(left / name, right / name, shallow=False)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed code drifted")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "generated"
        fresh.mkdir()
        generate(fresh)
        if args.check:
            drift = _differences(fresh, TARGET)
            if drift:
                print(
                    "generated protobuf code is out of date; run `make proto`:", *drift, sep="\n  "
                )
                return 1
            print("generated protobuf code is up to date")
            return 0
        shutil.rmtree(TARGET, ignore_errors=True)
        shutil.copytree(fresh, TARGET)
    print(f"generated {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
