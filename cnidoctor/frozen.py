"""``@dataclass(frozen=True)`` without compiling six methods for every class at import.

The standard library's ``dataclasses.dataclass`` writes ``__init__``, ``__repr__``, ``__eq__``,
``__hash__``, ``__setattr__`` and ``__delattr__`` of every frozen class as source text and
compiles each with ``exec`` (cpython: Lib/dataclasses.py, ``_create_fn``). That is about 1.2 ms a
class on the 2-core development machine: with some 120 record classes, over 100 ms of every
cold ``cnidoctor check``, more than the whole VERSION probe of a node (issue 11).

This module's ``dataclass`` is the standard one with the same arguments; for the plain
``frozen=True`` case (and the plain mutable ``@dataclass`` of a few parser states) it builds the
same class more cheaply:

* the standard ``dataclasses.dataclass(init=False, repr=False, eq=False)`` still collects the
  fields, so ``fields()``, ``replace()``, ``asdict()``, ``__match_args__`` and pickling are the
  library's own;
* ``__eq__``, ``__hash__``, ``__repr__``, ``__setattr__`` and ``__delattr__`` are closures over
  the field names (``operator.attrgetter`` builds the same tuples the generated code compares
  and hashes), so nothing is compiled for them;
* ``__init__`` is generated from the same kind of source as the library's, but compiled when the
  class is first instantiated: a class a run never builds costs no compilation.

Anything else (``order=True``, a dataclass base, an explicit dunder, ``ClassVar``/``InitVar``/
``KW_ONLY``, ``kw_only`` fields, ``__post_init__``, a class without a docstring, whose docstring
the library derives from the compiled ``__init__``) goes to ``dataclasses.dataclass`` unchanged.
tests/test_frozen.py compares both builds of the same classes behaviour by behaviour.
"""

from __future__ import annotations

import dataclasses
from operator import attrgetter
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

TYPE_CHECKING = False
if TYPE_CHECKING:  # type checkers see the standard decorator, whose meaning this one keeps
    from dataclasses import dataclass as dataclass
else:

    def dataclass(cls: Any = None, /, **options: Any) -> Any:
        def wrap(cls: type) -> type:
            if options in ({"frozen": True}, {}) and _is_plain(cls):
                return _build(cls, frozen=bool(options))
            return dataclasses.dataclass(**options)(cls)

        return wrap if cls is None else wrap(cls)


_GENERATED = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__", "__post_init__")
_SPECIAL_ANNOTATIONS = ("ClassVar", "InitVar", "KW_ONLY")


def _is_plain(cls: type) -> bool:
    """The cases this module builds exactly as the standard library would."""
    own = cls.__dict__
    if own.get("__doc__") is None or any(name in own for name in _GENERATED):
        return False
    if any(dataclasses.is_dataclass(base) for base in cls.__mro__[1:]):
        return False
    annotations = own.get("__annotations__", {})
    if any(special in str(hint) for hint in annotations.values() for special in _SPECIAL_ANNOTATIONS):
        return False
    return not any(getattr(own.get(name), "kw_only", None) is True for name in annotations)


def _build(cls: type, frozen: bool) -> type:
    cls = dataclasses.dataclass(init=False, repr=False, eq=False)(cls)
    params = cls.__dict__["__dataclass_params__"]
    params.init = params.repr = params.eq = True  # what the class now behaves as
    params.frozen = frozen
    fields = dataclasses.fields(cls)
    _check_order(fields)
    methods: Dict[str, Callable[..., Any]] = {
        "__init__": _lazy_init(cls, frozen),
        "__repr__": _repr(tuple(f.name for f in fields if f.repr)),
        "__eq__": _eq(_key([f.name for f in fields if f.compare])),
    }
    if frozen:
        hashed = [f.name for f in fields if (f.compare if f.hash is None else f.hash)]
        methods["__hash__"] = _hash(_key(hashed))
        methods["__setattr__"] = _setattr(cls, frozenset(f.name for f in fields))
        methods["__delattr__"] = _delattr(cls, frozenset(f.name for f in fields))
    for name, method in methods.items():
        method.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, method)
    if not frozen:
        cls.__hash__ = None  # type: ignore[assignment]  # eq without frozen: unhashable, as the library makes it
    return cls


def _key(names: Sequence[str]) -> Callable[[Any], Tuple[Any, ...]]:
    """The tuple the generated ``__eq__``/``__hash__`` build: ``(self.a, self.b, ...)``."""
    if len(names) > 1:
        return attrgetter(*names)  # a tuple already, built in C
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return lambda obj: ()


def _eq(key: Callable[[Any], Tuple[Any, ...]]) -> Callable[[Any, Any], Any]:
    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented

    return __eq__


def _hash(key: Callable[[Any], Tuple[Any, ...]]) -> Callable[[Any], int]:
    def __hash__(self: Any) -> int:
        return hash(key(self))

    return __hash__


def _repr(names: Sequence[str]) -> Callable[[Any], str]:
    import reprlib  # the library's repr guards against recursion the same way

    @reprlib.recursive_repr()
    def __repr__(self: Any) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{self.__class__.__qualname__}({shown})"

    return __repr__


def _setattr(owner: Any, names: frozenset) -> Callable[[Any, str, Any], None]:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is owner or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(owner, self).__setattr__(name, value)

    return __setattr__


def _delattr(owner: Any, names: frozenset) -> Callable[[Any, str], None]:
    def __delattr__(self: Any, name: str) -> None:
        if type(self) is owner or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(owner, self).__delattr__(name)

    return __delattr__


def _lazy_init(cls: type, frozen: bool) -> Callable[..., None]:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        compiled = _compile_init(cls, frozen)
        type.__setattr__(cls, "__init__", compiled)  # later instances call it directly
        compiled(self, *args, **kwargs)

    return __init__


class _Factory:
    """The default of a ``default_factory`` parameter, shown as the library's ``_HAS_DEFAULT_FACTORY``."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


def _compile_init(cls: type, frozen: bool) -> Callable[..., None]:
    """``__init__`` as the library writes it: parameters in field order, each stored with
    ``object.__setattr__`` in a frozen class (whose own ``__setattr__`` refuses), by plain
    assignment in another."""
    namespace: Dict[str, Any] = {"__dataclass_set__": object.__setattr__, "__dataclass_factory__": _FACTORY}
    fields = dataclasses.fields(cls)
    params = [_parameter(f, namespace) for f in fields if f.init]
    stores = [(f.name, _value(f, namespace)) for f in fields]
    store = "    __dataclass_set__(self, {name!r}, {value})" if frozen else "    self.{name} = {value}"
    body = [store.format(name=name, value=value) for name, value in stores if value is not None]
    source = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or "    pass") + "\n"
    exec(source, namespace)  # source built from field names only, as dataclasses does
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__annotations__ = {**{f.name: f.type for f in fields if f.init}, "return": None}
    return init


def _parameter(f: dataclasses.Field, namespace: Dict[str, Any]) -> str:
    if f.default is not dataclasses.MISSING:
        namespace[f"__dataclass_dflt_{f.name}__"] = f.default
        return f"{f.name}=__dataclass_dflt_{f.name}__"
    if f.default_factory is not dataclasses.MISSING:
        return f"{f.name}=__dataclass_factory__"
    return f.name


def _value(f: dataclasses.Field, namespace: Dict[str, Any]) -> Optional[str]:
    """The expression stored for a field, or None where the library stores nothing (a field
    outside ``__init__`` without a factory reads its class attribute)."""
    if f.default_factory is not dataclasses.MISSING:
        namespace[f"__dataclass_make_{f.name}__"] = f.default_factory
        made = f"__dataclass_make_{f.name}__()"
        return f"{made} if {f.name} is __dataclass_factory__ else {f.name}" if f.init else made
    return f.name if f.init else None


def _check_order(fields: Sequence[dataclasses.Field]) -> None:
    """The library refuses this when the class is defined; the lazy ``__init__`` must too."""
    defaulted = None
    for f in fields:
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        if f.init and not has_default and defaulted is not None:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
        if f.init and has_default:
            defaulted = f.name
