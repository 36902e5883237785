"""Environment variables declared on the settings classes, read through pydantic-settings.

A settings attribute that an operator may set is declared once, on the attrs class the
wiring reads, with ``variable(default, "meaning")`` and a type that says what is allowed
(``Annotated[float, Field(gt=0, le=1)]``, an enum, ``HostPort``...). A nested settings
class marked with ``group()`` gives its variables a prefix (``SSBTEK_POSTGRES_*``). From
those declarations this module builds one pydantic-settings model, reads the environment
through it, reports every problem at once (one line each, naming the variable and what it
accepts, never a secret's value), and renders the README's configuration table (ADR 16).
"""

from __future__ import annotations

import difflib
import enum
import functools
import re
import typing
from collections.abc import Callable, Iterator, Mapping, Sized
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import annotated_types
import attrs
import limits
import pydantic

from domain.identity import OrganisationNumber
from infrastructure.cli_light import SettingsError  # light, for the command line's parser

if TYPE_CHECKING:
    from pydantic_core import core_schema
    from pydantic_settings import BaseSettings, EnvSettingsSource

PREFIX: Final = "SSBTEK_"
_VARIABLE: Final = "ssbtek.variable"
_GROUP: Final = "ssbtek.group"


@attrs.frozen
class Variable:
    """What the README says about a variable, and how its value is treated."""

    meaning: str
    name: str = ""
    """The variable's name when it is not ``SSBTEK_`` + the attribute's path."""
    option: str = ""
    """The ``ssbtek serve`` option that overrides it, if any."""
    secret: bool = False
    """Never shown: not in an error message, a repr or the README's default column."""
    empty: str = ""
    """What an empty value means, when it means something; otherwise empty is unset."""
    shown_default: str = ""
    """The README's default column, when the default needs words."""


def variable(
    default: Any = attrs.NOTHING,
    meaning: str = "",
    *,
    factory: Callable[[], Any] | None = None,
    name: str = "",
    option: str = "",
    secret: bool = False,
    empty: str = "",
    shown_default: str = "",
) -> Any:
    """An attrs field that an ``SSBTEK_*`` variable sets (see the module docstring)."""
    about = Variable(meaning, name, option, secret, empty, shown_default)
    if factory is not None:
        return attrs.field(factory=factory, repr=not secret, metadata={_VARIABLE: about})
    return attrs.field(default=default, repr=not secret, metadata={_VARIABLE: about})


def group(factory: Callable[[], Any]) -> Any:
    """A nested settings class: its variables are named ``SSBTEK_<ATTRIBUTE>_<NAME>``."""
    return attrs.field(factory=factory, metadata={_GROUP: True})


# -- value types ------------------------------------------------------------------------


@attrs.frozen
class Allowed:
    """What the README's table says a variable accepts (pydantic passes over it)."""

    allowed: str


def _switch(value: object) -> object:
    if isinstance(value, str):
        word = value.strip().lower()
        if word in {"1", "y", "yes", "true", "on"}:
            return True
        if word in {"0", "n", "no", "false", "off"}:
            return False
        raise ValueError("must be on or off (also: yes/no, true/false, 1/0)")
    return value


Switch = Annotated[bool, pydantic.BeforeValidator(_switch), Allowed("`on`, `off`")]
"""``on``/``off`` (also yes/no, true/false, 1/0); anything else is refused, so a typo
cannot turn a switch off."""


def _host_port(value: str) -> str:
    host, separator, port = value.rpartition(":")
    if not separator or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError("must be host:port, port 0 to 65535 (e.g. 127.0.0.1:50051)")
    return value


HostPort = Annotated[str, pydantic.AfterValidator(_host_port), Allowed("host:port")]
OptionalHostPort = Annotated[
    str,
    pydantic.AfterValidator(lambda value: _host_port(value) if value else value),
    Allowed("host:port"),
]


def _comma_list(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def _organisation(value: str) -> str:
    try:
        return OrganisationNumber.parse(value).digits
    except ValueError:
        raise ValueError(
            "must be organisation numbers, comma-separated (NNNNNN-NNNN, check digit valid)"
        ) from None


Organisations = Annotated[
    frozenset[Annotated[str, pydantic.AfterValidator(_organisation)]],
    pydantic.BeforeValidator(_comma_list),
    Allowed("organisation numbers, comma-separated"),
]
"""Comma-separated organisation numbers, kept as their 10 digits."""


Paths = Annotated[
    tuple[Path, ...],
    pydantic.BeforeValidator(_comma_list),
    Allowed("files, comma-separated"),
]
"""Comma-separated file names."""


def parse_options(text: str) -> dict[str, str]:
    """``"latency=demo,seed=7"`` -> ``{"latency": "demo", "seed": "7"}``."""
    options: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, separator, value = item.partition("=")
        if not separator or not key.strip():
            raise ValueError("must look like key=value,key=value")
        options[key.strip()] = value.strip()
    return options


def _options(value: object) -> object:
    return parse_options(value) if isinstance(value, str) else value


Options = Annotated[
    Mapping[str, str], pydantic.BeforeValidator(_options), Allowed("`key=value,...`")
]
"""``key=value,key=value``."""


@attrs.frozen
class HexKey:
    """A key in hex: ``min_bytes`` bytes at least (exactly, with ``exact``); empty: unset."""

    min_bytes: int
    exact: bool = False

    @property
    def allowed(self) -> str:
        return f"{self.min_bytes * 2} hex digits" + ("" if self.exact else " or more")

    def check(self, value: str) -> str:
        try:
            key = bytes.fromhex(value) if value else b"x" * self.min_bytes
        except ValueError:
            raise ValueError(f"must be {self.allowed} (0-9, a-f)") from None
        if len(key) < self.min_bytes or (self.exact and len(key) != self.min_bytes):
            raise ValueError(f"must be {self.allowed} (0-9, a-f)")
        return value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: pydantic.GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(self.check, handler(source))


def _rate_limit(value: str) -> str:
    if value:
        try:
            limits.parse(value)
        except ValueError:
            raise ValueError(
                "must be a number per second, minute, hour or day (e.g. 50/second, 600/minute)"
            ) from None
    return value


RateLimit = Annotated[
    str, pydantic.AfterValidator(_rate_limit), Allowed("N/second, N/minute, N/hour, N/day")
]
"""``N/second`` and so on, in the ``limits`` library's notation; empty for none."""


def _name(value: str) -> str:
    if value and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise ValueError("must be letters, digits and _, not starting with a digit")
    return value


Name = Annotated[str, pydantic.AfterValidator(_name), Allowed("letters, digits, `_`")]
"""An SQL name (schema); empty for the default."""
Text = Annotated[str, pydantic.Field(min_length=1), Allowed("not empty")]


# -- the model --------------------------------------------------------------------------


@attrs.frozen
class _Leaf:
    path: tuple[str, ...]
    variable: str
    about: Variable
    hint: Any
    default: Any

    @property
    def key(self) -> str:
        return "__".join(self.path)


def _leaves(cls: type, path: tuple[str, ...] = ()) -> Iterator[_Leaf]:
    hints = typing.get_type_hints(cls, include_extras=True)
    for field in attrs.fields(cls):
        here = (*path, field.name)
        if field.metadata.get(_GROUP):
            yield from _leaves(_nested_class(hints[field.name]), here)
            continue
        about = field.metadata.get(_VARIABLE)
        if about is None:
            continue
        default = field.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = default.factory()
        name = about.name or PREFIX + "_".join(here).upper()
        yield _Leaf(here, name, about, hints[field.name], default)


def _nested_class(hint: Any) -> type:
    return typing.get_args(hint)[0] if typing.get_origin(hint) is Annotated else hint  # type: ignore[no-any-return]


_Source = Callable[["type[BaseSettings]", Mapping[str, str], frozenset[str]], "EnvSettingsSource"]


@functools.cache
def _machinery() -> tuple[type[BaseSettings], _Source]:
    """pydantic-settings' base model and environment source, imported when settings are
    first read (not by every process that only builds a ``Settings`` value)."""
    import pydantic_settings

    class Environment(pydantic_settings.BaseSettings):
        model_config = pydantic_settings.SettingsConfigDict(
            case_sensitive=True,
            extra="ignore",
            allow_inf_nan=False,
            frozen=True,
            enable_decoding=False,  # no JSON: lists and options have their own notation
        )

    class MappingSource(pydantic_settings.EnvSettingsSource):
        """The environment source of pydantic-settings over a given mapping (the process's
        environment, or a test's), with surrounding spaces removed and an empty value taken
        as unset unless the variable gives empty a meaning."""

        def __init__(
            self,
            settings_cls: type[pydantic_settings.BaseSettings],
            environ: Mapping[str, str],
            meaningful_empty: frozenset[str],
        ) -> None:
            self._given = environ
            self._meaningful_empty = meaningful_empty
            super().__init__(settings_cls)

        def _load_env_vars(self) -> Mapping[str, str | None]:
            values: dict[str, str | None] = {}
            for name, value in self._given.items():
                if name.startswith(PREFIX) and (value.strip() or name in self._meaningful_empty):
                    values[name] = value.strip()
            return values

    return Environment, MappingSource


@attrs.frozen
class Schema:
    """The variables of one settings class and the pydantic-settings model that reads them."""

    root: type
    leaves: tuple[_Leaf, ...]
    model: type[BaseSettings]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(leaf.variable for leaf in self.leaves)

    def read(self, environ: Mapping[str, str], *, options: Mapping[str, str]) -> Any:
        """An instance of the settings class; ``SettingsError`` with every problem.

        ``options`` are command-line overrides by variable name; a problem with one of them
        names the option instead of the variable."""
        given = {**environ, **options}
        empty = frozenset(leaf.variable for leaf in self.leaves if leaf.about.empty)
        source = _machinery()[1](self.model, given, empty)
        try:
            values = self.model(_build_sources=((source,), {}))
        except pydantic.ValidationError as error:
            raise SettingsError(
                [self._line(problem, options) for problem in error.errors()]
            ) from None
        return self._build(self.root, (), values)

    def label(self, variable: str, options: Mapping[str, str]) -> str:
        """The name a person used: the option when the value came from one."""
        by_name = {leaf.variable: leaf for leaf in self.leaves}
        leaf = by_name.get(variable)
        if leaf and variable in options and leaf.about.option:
            return leaf.about.option
        return variable

    def _line(self, problem: Mapping[str, Any], options: Mapping[str, str]) -> str:
        by_key = {leaf.key: leaf for leaf in self.leaves}
        by_name = {leaf.variable: leaf for leaf in self.leaves}
        where = str(problem["loc"][0]) if problem["loc"] else ""
        leaf = by_key.get(where) or by_name.get(where)
        message = str(problem["msg"]).removeprefix("Value error, ")
        message = message[:1].lower() + message[1:]
        if leaf is None:
            return f"{where}: {message}"
        shown = problem.get("input")
        got = "" if leaf.about.secret or not isinstance(shown, str) else f" (got {shown!r})"
        return f"{self.label(leaf.variable, options)}: {message}{got}"

    def _build(self, cls: type, path: tuple[str, ...], values: pydantic.BaseModel) -> Any:
        changes: dict[str, Any] = {}
        for field in attrs.fields(cls):
            here = (*path, field.name)
            if field.metadata.get(_GROUP):
                hint = typing.get_type_hints(cls, include_extras=True)[field.name]
                changes[field.name] = self._build(_nested_class(hint), here, values)
            elif _VARIABLE in field.metadata:
                changes[field.name] = getattr(values, "__".join(here))
        return cls(**changes)

    def unknown(self, environ: Mapping[str, str]) -> list[str]:
        """A warning for each ``SSBTEK_*`` variable no setting reads (a typo'd name)."""
        lines = []
        for name in sorted(set(environ) - self.names):
            if not name.startswith(PREFIX):
                continue
            near = difflib.get_close_matches(name, sorted(self.names), n=1)
            hint = f"; did you mean {near[0]}?" if near else ""
            lines.append(f"warning: {name} is not a setting of this service, ignored{hint}")
        return lines

    def markdown(self) -> str:
        """The README's configuration table."""
        rows = [
            "| variable | option | default | allowed | meaning |",
            "| --- | --- | --- | --- | --- |",
        ]
        for leaf in self.leaves:
            option = f"`{leaf.about.option}`" if leaf.about.option else ""
            rows.append(
                f"| `{leaf.variable}` | {option} | {_shown(leaf)} | {_allowed(leaf.hint)} "
                f"| {_meaning(leaf)} |"
            )
        return "\n".join(rows) + "\n"


def _shown(leaf: _Leaf) -> str:
    if leaf.about.shown_default:
        return leaf.about.shown_default
    value = leaf.default
    if leaf.about.secret or value is None or (isinstance(value, Sized) and not len(value)):
        return ""
    if isinstance(value, bool):
        return "`on`" if value else "`off`"
    if isinstance(value, float):
        value = f"{value:g}"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, frozenset):
        value = ",".join(sorted(str(OrganisationNumber.parse(item)) for item in value))
    return f"`{value}`"


def _meaning(leaf: _Leaf) -> str:
    empty = f"; empty: {leaf.about.empty}" if leaf.about.empty else ""
    return leaf.about.meaning + empty


_BOUNDS: Final = (
    (annotated_types.Gt, "gt", ">"),
    (annotated_types.Ge, "ge", "≥"),
    (annotated_types.Lt, "lt", "<"),
    (annotated_types.Le, "le", "≤"),
)


def _allowed(hint: Any) -> str:
    """What the README says a variable accepts, from its type."""
    base = _nested_class(hint)
    extras = typing.get_args(hint)[1:] if typing.get_origin(hint) is Annotated else ()
    said = [str(extra.allowed) for extra in extras if hasattr(extra, "allowed")]
    if said:
        return said[-1]
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return ", ".join(f"`{member.value}`" for member in base)
    if base is Path or hint == Path | None:
        return "a file" if hint == Path | None else "a directory"
    words = {int: "a whole number", float: "a number"}.get(base, "")
    for item in (item for extra in extras for item in getattr(extra, "metadata", [extra])):
        for kind, name, sign in _BOUNDS:
            if isinstance(item, kind):
                words += f", {sign} {getattr(item, name)}"
    return words


@functools.cache
def schema(cls: type) -> Schema:
    """The variables declared on ``cls`` (and its groups), and the model that reads them."""
    leaves = tuple(_leaves(cls))
    fields: dict[str, Any] = {
        leaf.key: (
            leaf.hint,
            pydantic.Field(
                default=leaf.default,
                validation_alias=leaf.variable,
                description=leaf.about.meaning,
                repr=not leaf.about.secret,
            ),
        )
        for leaf in leaves
    }
    model = pydantic.create_model(f"{cls.__name__}Environment", __base__=_machinery()[0], **fields)
    return Schema(cls, leaves, model)
