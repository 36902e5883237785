"""Write the self-contained proto bundle: the contract and every proto it needs.

    python proto/bundle.py build/protos                 # the bundle directory
    python proto/bundle.py build/protos --archive       # and build/protos.tar.gz beside it
    python proto/bundle.py build/proto-imports --imports-only   # the imported protos alone

``protoc -I build/protos`` compiles every file of the bundle with nothing else on the include
path. The imported protos come from the installed packages pinned in ``uv.lock``: grpcio-tools
ships ``google/protobuf/*``, googleapis-common-protos ships ``google/type`` and ``google/rpc``.
grpcio-health-checking ships only the compiled health module, so its ``.proto`` is written
from the compiled descriptor (``print_proto``); a test compiles that text back and compares
the two descriptors.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import sys
import tarfile
from pathlib import Path

from google.protobuf import descriptor_pb2

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
# Not imported by the contract, but part of it: the error details every RPC may return
# (google.rpc.Status, ErrorInfo, BadRequest, ...) and the standard health service.
EXTRA_IMPORTS = (
    "google/rpc/status.proto",
    "google/rpc/error_details.proto",
    "google/rpc/code.proto",
)
HEALTH_PROTO = "grpc/health/v1/health.proto"
_IMPORT = re.compile(r'^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;', re.MULTILINE)


def include_roots() -> list[Path]:
    """Where the installed packages keep the protos the contract imports."""
    import google.type.date_pb2

    tools = importlib.util.find_spec("grpc_tools")
    if tools is None or tools.origin is None:
        raise ModuleNotFoundError("grpcio-tools is not installed: run `make sync-dev`")
    return [
        Path(google.type.date_pb2.__file__).resolve().parents[2],
        Path(tools.origin).parent / "_proto",
    ]


def project_protos() -> list[str]:
    return sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))


def _find(name: str, roots: list[Path]) -> Path:
    for root in roots:
        if (root / name).is_file():
            return root / name
    raise FileNotFoundError(f"{name} is in none of {', '.join(map(str, roots))}")


def imported_protos() -> dict[str, Path]:
    """Every proto the contract imports, directly or not, with the installed file it is."""
    roots = [PROTO_ROOT, *include_roots()]
    pending = [*project_protos(), *EXTRA_IMPORTS]
    seen: dict[str, Path] = {}
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen[name] = _find(name, roots)
        pending.extend(_IMPORT.findall(seen[name].read_text()))
    return {name: path for name, path in seen.items() if not name.startswith("ssbtek/")}


def health_descriptor() -> descriptor_pb2.FileDescriptorProto:
    from grpc_health.v1 import health_pb2

    proto = descriptor_pb2.FileDescriptorProto()
    health_pb2.DESCRIPTOR.CopyToProto(proto)
    proto.name = HEALTH_PROTO
    return proto


def write(into: Path, *, imports_only: bool = False) -> list[str]:
    """Write the bundle (or only the imported protos) into ``into``; returns the files."""
    shutil.rmtree(into, ignore_errors=True)
    files: dict[str, str] = {
        name: path.read_text() for name, path in sorted(imported_protos().items())
    }
    files[HEALTH_PROTO] = print_proto(health_descriptor())
    if not imports_only:
        for name in project_protos():
            files[name] = (PROTO_ROOT / name).read_text()
    for name, text in files.items():
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return sorted(files)


# --- a .proto printer for the compiled descriptors of installed packages ---------------

_F = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    _F.TYPE_DOUBLE: "double",
    _F.TYPE_FLOAT: "float",
    _F.TYPE_INT64: "int64",
    _F.TYPE_UINT64: "uint64",
    _F.TYPE_INT32: "int32",
    _F.TYPE_FIXED64: "fixed64",
    _F.TYPE_FIXED32: "fixed32",
    _F.TYPE_BOOL: "bool",
    _F.TYPE_STRING: "string",
    _F.TYPE_BYTES: "bytes",
    _F.TYPE_UINT32: "uint32",
    _F.TYPE_SFIXED32: "sfixed32",
    _F.TYPE_SFIXED64: "sfixed64",
    _F.TYPE_SINT32: "sint32",
    _F.TYPE_SINT64: "sint64",
}
_STRING_OPTIONS = (
    "java_package",
    "java_outer_classname",
    "go_package",
    "objc_class_prefix",
    "csharp_namespace",
)


def print_proto(proto: descriptor_pb2.FileDescriptorProto) -> str:
    """The ``.proto`` text of a proto3 file's descriptor (messages, enums, maps, services)."""
    if proto.syntax != "proto3":
        raise ValueError(f"{proto.name}: only proto3 files are printed")
    lines = ['syntax = "proto3";', "", f"package {proto.package};", ""]
    lines += [f'import "{name}";' for name in proto.dependency]
    for option in _STRING_OPTIONS:
        if proto.options.HasField(option):  # type: ignore[arg-type]
            lines.append(f'option {option} = "{getattr(proto.options, option)}";')
    if proto.options.HasField("java_multiple_files"):
        multiple = str(proto.options.java_multiple_files).lower()
        lines.append(f"option java_multiple_files = {multiple};")
    for enum in proto.enum_type:
        lines += ["", *_enum(enum, "")]
    for message in proto.message_type:
        lines += ["", *_message(message, "", f".{proto.package}")]
    for service in proto.service:
        lines += ["", f"service {service.name} {{"]
        for method in service.method:
            request = ("stream " if method.client_streaming else "") + method.input_type
            response = ("stream " if method.server_streaming else "") + method.output_type
            lines.append(f"  rpc {method.name}({request}) returns ({response});")
        lines.append("}")
    return "\n".join(lines) + "\n"


def _enum(enum: descriptor_pb2.EnumDescriptorProto, indent: str) -> list[str]:
    body = [f"{indent}  {value.name} = {value.number};" for value in enum.value]
    return [f"{indent}enum {enum.name} {{", *body, f"{indent}}}"]


def _message(message: descriptor_pb2.DescriptorProto, indent: str, scope: str) -> list[str]:
    maps = {
        f"{scope}.{message.name}.{nested.name}": nested
        for nested in message.nested_type
        if nested.options.map_entry
    }
    lines = [f"{indent}message {message.name} {{"]
    for enum in message.enum_type:
        lines += _enum(enum, indent + "  ")
    for nested in message.nested_type:
        if not nested.options.map_entry:
            lines += _message(nested, indent + "  ", f"{scope}.{message.name}")
    oneofs: dict[int, list[str]] = {}
    for field in message.field:
        if field.type_name in maps:
            key, value = maps[field.type_name].field
            text = f"map<{_type(key)}, {_type(value)}> {field.name} = {field.number};"
        else:
            label = "repeated " if field.label == _F.LABEL_REPEATED else ""
            label = "optional " if field.proto3_optional else label
            text = f"{label}{_type(field)} {field.name} = {field.number};"
        if field.HasField("oneof_index") and not field.proto3_optional:
            oneofs.setdefault(field.oneof_index, []).append(text)
        else:
            lines.append(f"{indent}  {text}")
    for index, texts in oneofs.items():
        lines.append(f"{indent}  oneof {message.oneof_decl[index].name} {{")
        lines += [f"{indent}    {text}" for text in texts]
        lines.append(f"{indent}  }}")
    lines.append(f"{indent}}}")
    return lines


def _type(field: descriptor_pb2.FieldDescriptorProto) -> str:
    return _SCALARS.get(field.type, field.type_name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("into", type=Path, help="the directory to write (replaced)")
    parser.add_argument("--archive", action="store_true", help="also write <into>.tar.gz")
    parser.add_argument("--imports-only", action="store_true", help="only the imported protos")
    args = parser.parse_args()
    files = write(args.into, imports_only=args.imports_only)
    print(f"wrote {len(files)} protos to {args.into}")
    if args.archive:
        archive = args.into.with_name(args.into.name + ".tar.gz")
        with tarfile.open(archive, "w:gz") as tar:
            for name in files:
                tar.add(args.into / name, arcname=f"{args.into.name}/{name}")
        print(f"wrote {archive}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
