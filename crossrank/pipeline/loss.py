"""The loss of a training run: ``loss: Name`` or ``{name: Name, option: value}`` -> a ``RerankLoss``.

Options are the loss constructor's parameters; their values are coerced to the parameter's annotated type
(``pos_weight: "5"`` -> ``5.0``) when the configuration is read, so a wrong name or value fails before any
model loads.
"""

from __future__ import annotations

import difflib
import inspect
import typing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crossrank.options import OptionError, coerce

if TYPE_CHECKING:
    from crossrank.losses.base import RerankLoss
    from crossrank.model import CrossEncoder

DEFAULT_LOSS = "BinaryCrossEntropyLoss"


@dataclass
class LossSpec:
    """A loss class of ``crossrank.losses`` by name, with constructor options (the model is passed in)."""

    name: str = DEFAULT_LOSS
    options: dict[str, Any] = field(default_factory=dict)


def loss_class(name: str) -> type[RerankLoss]:
    """The ``crossrank.losses`` class called ``name``.

    Raises:
        OptionError: naming the accepted losses and the closest one.
    """
    import crossrank.losses as losses

    cls = getattr(losses, str(name), None)
    if not isinstance(cls, type) or not issubclass(cls, losses.RerankLoss) or cls is losses.RerankLoss:
        close = difflib.get_close_matches(str(name), losses.__all__, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise OptionError(f"unknown loss {name!r}; expected one of {', '.join(losses.__all__)}.{hint}")
    return cls


def _parameter_hints(cls: type) -> tuple[dict[str, Any], bool]:
    """Named constructor parameter -> type (``Any`` where the annotation cannot be resolved at run time),
    and whether the constructor also takes ``**kwargs`` (which it checks itself)."""
    namespace = vars(inspect.getmodule(cls))
    hints: dict[str, Any] = {}
    extra = False
    for name, parameter in list(inspect.signature(cls.__init__).parameters.items())[2:]:  # self, model
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            extra = extra or parameter.kind is parameter.VAR_KEYWORD
            continue
        annotation = parameter.annotation
        if isinstance(annotation, str):
            try:
                annotation = eval(annotation, dict(namespace), {"typing": typing})  # noqa: S307 - own annotations
            except Exception:  # a TYPE_CHECKING-only name: leave the value as given
                annotation = Any
        hints[name] = Any if annotation is inspect.Parameter.empty else annotation
    return hints, extra


def loss_spec(value: Any) -> LossSpec:
    """Check a ``loss:`` section: a known loss name and options its constructor takes, values coerced.

    Options a constructor takes through ``**kwargs`` are passed on as given (the loss checks them when it
    is built), unless the name is a near miss of a named option (``pos_wieght``), which is refused here.
    """
    if value is None:
        return LossSpec()
    spec = {"name": value} if isinstance(value, str) else value
    if not isinstance(spec, dict):
        raise OptionError(f"loss: expected a loss name or {{name: ..., option: value}}; found {value!r}.")
    options = dict(spec)
    name = str(options.pop("name", DEFAULT_LOSS))
    hints, extra = _parameter_hints(loss_class(name))
    for key, option in options.items():
        if key not in hints and extra and not difflib.get_close_matches(key, list(hints), n=1, cutoff=0.8):
            continue
        if key not in hints:
            close = difflib.get_close_matches(key, list(hints), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise OptionError(f"loss {name} has no option {key!r}; it takes {', '.join(hints) or 'none'}.{hint}")
        options[key] = coerce(option, hints[key], f"loss.{key}")
    return LossSpec(name, options)


def build_loss(spec: LossSpec, model: CrossEncoder) -> RerankLoss:
    """``LossClass(model, **options)``.

    Raises:
        ValueError: when the constructor refuses the options (its message, naming the loss).
    """
    try:
        return loss_class(spec.name)(model, **spec.options)
    except TypeError as err:
        raise ValueError(f"loss {spec.name}: {err}") from err
