"""Coerce a configuration value to a field's declared type, or reject it in one line naming the key.

YAML and command lines hand over strings, ints and floats loosely (PyYAML reads ``5e-5`` as a string);
every typed configuration in crossrank (the ``crossrank train`` YAML, ``MiningConfig``, the ``mine``
flags) runs its values through :func:`coerce` with the field's type hint, so ``"5e-5"`` becomes ``5e-05``
for a ``float`` field and ``"fast"`` is refused before any model loads.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import json
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar, Union

T = TypeVar("T")

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


class OptionError(ValueError):
    """A configuration value that does not fit its field: one line naming the key, the value and the type."""


def type_name(hint: Any) -> str:
    """A readable name for a type hint: ``float``, ``int or None``, ``one of 'top', 'random'``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (Union, types.UnionType):
        return " or ".join(type_name(a) for a in args)
    if hint is type(None):
        return "None"
    if origin is not None:
        inner = ", ".join(type_name(a) for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]" if inner else origin.__name__
    return getattr(hint, "__name__", str(hint))


def _fail(key: str, value: Any, hint: Any, why: str = "") -> OptionError:
    extra = f" ({why})" if why else ""
    return OptionError(f"{key}: expected {type_name(hint)}, found {value!r} ({type(value).__name__}){extra}.")


def _parse_text(key: str, value: str, hint: Any) -> Any:
    """A JSON (or YAML flow) string for a list or dict field."""
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        import yaml

        try:
            return yaml.safe_load(value)
        except yaml.YAMLError as err:
            raise _fail(key, value, hint, f"not JSON: {str(err).splitlines()[0]}") from None


def _scalar(value: Any, hint: type, key: str) -> Any:
    if hint is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if isinstance(value, (str, int)) and text in _TRUE + _FALSE:
            return text in _TRUE
        raise _fail(key, value, hint, "use true or false")
    if hint in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise _fail(key, value, hint)
        try:
            number = float(value) if isinstance(value, str) else value
        except ValueError:
            raise _fail(key, value, hint) from None
        if hint is float:
            return float(number)
        if float(number) != int(number):
            raise _fail(key, value, hint, "not a whole number")
        return int(number)
    if hint is str:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise _fail(key, value, hint)
        return str(value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(value)
        except ValueError:
            raise _fail(key, value, hint, "one of " + ", ".join(repr(m.value) for m in hint)) from None
    if isinstance(hint, type) and isinstance(value, hint):
        return value
    raise _fail(key, value, hint)


def _union(value: Any, args: tuple[Any, ...], hint: Any, key: str) -> Any:
    if value is None and type(None) in args:
        return None
    arms = [a for a in args if a is not type(None)]
    for arm in arms:  # a value that already has one of the types keeps it
        plain = typing.get_origin(arm) or arm
        if isinstance(plain, type) and isinstance(value, plain) and not (isinstance(value, bool) and plain is int):
            return coerce(value, arm, key)
    for arm in arms:
        try:
            return coerce(value, arm, key)
        except OptionError:
            continue
    raise _fail(key, value, hint)


def _container(value: Any, origin: Any, args: tuple[Any, ...], hint: Any, key: str) -> Any:
    if isinstance(value, str):
        value = _parse_text(key, value, hint)
    if origin in (dict, Mapping) or (isinstance(origin, type) and issubclass(origin, Mapping)):
        if not isinstance(value, Mapping):
            raise _fail(key, value, hint)
        kt, vt = args if len(args) == 2 else (Any, Any)
        return {coerce(k, kt, f"{key}.{k}"): coerce(v, vt, f"{key}.{k}") for k, v in value.items()}
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        raise _fail(key, value, hint)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(coerce(v, args[0], f"{key}[{i}]") for i, v in enumerate(value))
        if args and len(args) != len(value):
            raise _fail(key, value, hint, f"{len(args)} items expected")
        return tuple(coerce(v, a, f"{key}[{i}]") for i, (v, a) in enumerate(zip(value, args or [Any] * len(value))))
    item = args[0] if args else Any
    return [coerce(v, item, f"{key}[{i}]") for i, v in enumerate(value)]


def coerce(value: Any, hint: Any, key: str) -> Any:
    """``value`` as the type ``hint`` says, or :class:`OptionError` naming ``key``.

    Numbers may come as strings (``"5e-5"`` -> ``5e-05``, ``"3"`` -> ``3``), booleans as ``true``/``false``,
    lists and dicts as JSON strings; ``Literal`` values must be one of the choices; ``X | None`` takes
    ``None``. A nested dataclass takes a mapping (see :func:`from_mapping`).
    """
    if hint is Any or hint is typing.Any or isinstance(hint, typing.TypeVar):
        return value
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Literal:
        if value in args and not (isinstance(value, bool) and True not in args and False not in args):
            return value
        text = [a for a in args if str(a) == str(value)]
        if text:
            return text[0]
        name = key.rpartition(".")[2].lstrip("-").replace("-", "_")
        raise OptionError(f"Unknown {name} {value!r}; expected one of {', '.join(map(str, args))}.")
    if origin in (Union, types.UnionType):
        return _union(value, args, hint, key)
    if origin is not None and origin is not type:
        return _container(value, origin, args, hint, key)
    if value is None:
        raise _fail(key, value, hint, "a value is required")
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return value if isinstance(value, hint) else from_mapping(hint, value, key)
    if hint in (list, dict, tuple):
        return _container(value, hint, (), hint, key)
    return _scalar(value, hint, key)


def field_hints(cls: type) -> dict[str, Any]:
    """The resolved type hints of a dataclass's ``__init__`` fields, in field order."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(cls) if f.init}


def unknown_key(key: str, allowed: Sequence[str], where: str, list_allowed: bool = True) -> OptionError:
    """The error for a key ``where`` does not know, naming the closest valid one."""
    close = difflib.get_close_matches(key, list(allowed), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    expected = f"; expected one of {', '.join(allowed)}." if list_allowed else "."
    return OptionError(f"unknown key {key!r} in {where}{expected}{hint}")


def coerce_fields(cls: type, values: Mapping[str, Any], where: str, list_allowed: bool = True,
                  label: str | None = None) -> dict[str, Any]:
    """``values`` checked against the fields of dataclass ``cls``: unknown keys refused, each value coerced.

    Keys of errors are ``{where}.{field}``; ``label`` names the section in unknown-key errors (default
    ``section '{where}'``). Nothing is constructed (``TrainingArguments`` does work in its
    ``__post_init__`` that the caller may want to delay).
    """
    hints = field_hints(cls)
    label = label or (f"section {where!r}" if where else "the config")
    out = {}
    for key, value in values.items():
        if key not in hints:
            raise unknown_key(key, list(hints), label, list_allowed)
        out[key] = coerce(value, hints[key], f"{where}.{key}" if where else key)
    return out


def from_mapping(cls: type[T], values: Any, where: str, short_key: str | None = None) -> T:
    """An instance of dataclass ``cls`` from a mapping (or a bare value for its ``short_key`` field).

    ``short_key`` defaults to the class attribute ``SHORT_KEY`` (``DataSpec``: ``path``).

    Raises:
        OptionError: on a value that is not a mapping, an unknown key, a missing required field or a value
            of the wrong type, naming the key.
    """
    short_key = short_key or getattr(cls, "SHORT_KEY", None)
    if short_key is not None and not isinstance(values, Mapping):
        values = {short_key: values}
    if not isinstance(values, Mapping):
        raise OptionError(f"{where}: expected a mapping of {', '.join(field_hints(cls))}; found {values!r}.")
    given = coerce_fields(cls, values, where)
    missing = [f.name for f in dataclasses.fields(cls) if f.init and f.name not in given
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise OptionError(f"{where}: missing required key(s) {missing}.")
    return cls(**given)
