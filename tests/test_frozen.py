"""cnidoctor.frozen.dataclass builds the same class as the standard library's
``dataclasses.dataclass(frozen=True)``: every test builds one class body twice, once with each
decorator, and compares what the two classes do (the library is the reference, not a recorded
expectation)."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
import pickle
import pkgutil
import sys
from typing import Any, Callable, Dict, List, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cnidoctor
from cnidoctor import frozen

# A field as (kind, compare, repr, hash): kind is how it gets its value.
KINDS = ("required", "default", "factory", "noinit_default", "noinit_factory")
FieldSpec = Tuple[str, bool, bool, Any]


def _field(kind: str, compare: bool, shown: bool, hashed: Any, index: int) -> Any:
    options: Dict[str, Any] = {"compare": compare, "repr": shown, "hash": hashed}
    if kind == "default":
        options["default"] = ("d", index)
    elif kind == "factory":
        options["default_factory"] = lambda: ["made", index]
    elif kind == "noinit_default":
        options.update(default=index, init=False)
    elif kind == "noinit_factory":
        options.update(default_factory=lambda: ("made", index), init=False)
    return dataclasses.field(**options)


def _body(specs: List[FieldSpec]) -> Dict[str, Any]:
    body: Dict[str, Any] = {"__doc__": "A record.", "__annotations__": {}, "__module__": __name__}
    for index, (kind, compare, shown, hashed) in enumerate(specs):
        name = f"f{index}"
        body["__annotations__"][name] = "Any"
        body[name] = _field(kind, compare, shown, hashed, index)
    return body


def _twins(specs: List[FieldSpec], is_frozen: bool = True) -> Tuple[type, type]:
    """The same class body built by the library and by cnidoctor.frozen (``@dataclass`` when not
    frozen: the plain mutable form, also built here)."""
    options = {"frozen": True} if is_frozen else {}
    ours = frozen.dataclass(**options)(type("Record", (), _body(specs)))
    theirs = dataclasses.dataclass(**options)(type("Record", (), _body(specs)))
    return theirs, ours


def _valid_order(specs: List[FieldSpec]) -> List[FieldSpec]:
    """Required init fields first, as both decorators demand."""
    return sorted(specs, key=lambda spec: spec[0] != "required")


def _arguments(specs: List[FieldSpec], values: List[Any]) -> Tuple[List[Any], Dict[str, Any]]:
    """Required fields positionally, every other init field by keyword where a value is given."""
    positional: List[Any] = []
    keywords: Dict[str, Any] = {}
    for index, ((kind, *_), value) in enumerate(zip(specs, values)):
        if kind == "required":
            positional.append(value)
        elif kind in ("default", "factory") and value is not None:
            keywords[f"f{index}"] = value
    return positional, keywords


def _outcome(action: Callable[[], Any]) -> Tuple[str, Any]:
    try:
        return ("ok", action())
    except Exception as error:  # the exception's type and text are part of the behaviour
        return (type(error).__name__, str(error))


field_specs = st.lists(
    st.tuples(st.sampled_from(KINDS), st.booleans(), st.booleans(), st.sampled_from([None, True, False])),
    max_size=6,
).map(_valid_order)
values = st.lists(st.one_of(st.none(), st.integers(-3, 3), st.text(max_size=3)), min_size=6, max_size=6)


@settings(max_examples=300, deadline=None)
@given(specs=field_specs, first=values, second=values, is_frozen=st.booleans())
def test_instances_behave_as_the_librarys(
    specs: List[FieldSpec], first: List[Any], second: List[Any], is_frozen: bool
) -> None:
    theirs, ours = _twins(specs, is_frozen)
    args_a, kwargs_a = _arguments(specs, first)
    args_b, kwargs_b = _arguments(specs, second)
    a_theirs, b_theirs = theirs(*args_a, **kwargs_a), theirs(*args_b, **kwargs_b)
    a_ours, b_ours = ours(*args_a, **kwargs_a), ours(*args_b, **kwargs_b)

    assert repr(a_ours) == repr(a_theirs)
    assert vars(a_ours) == vars(a_theirs)
    assert (a_ours == b_ours) == (a_theirs == b_theirs)
    assert (a_ours != b_ours) == (a_theirs != b_theirs)
    assert _outcome(lambda: hash(a_ours)) == _outcome(lambda: hash(a_theirs))
    assert a_ours.__eq__(a_theirs) is NotImplemented  # another class is never equal
    assert str(inspect.signature(ours)) == str(inspect.signature(theirs))
    assert ours.__match_args__ == theirs.__match_args__
    assert dataclasses.asdict(a_ours) == dataclasses.asdict(a_theirs)
    assert repr(dataclasses.replace(a_ours)) == repr(dataclasses.replace(a_theirs))
    # last: on a mutable class these succeed and change the instances
    for name in [f"f{i}" for i in range(len(specs))] + ["other"]:
        assert _outcome(lambda n=name: setattr(a_ours, n, 1)) == _outcome(lambda n=name: setattr(a_theirs, n, 1))
        assert _outcome(lambda n=name: delattr(a_ours, n)) == _outcome(lambda n=name: delattr(a_theirs, n))


@settings(max_examples=100, deadline=None)
@given(specs=field_specs, is_frozen=st.booleans())
def test_wrong_calls_fail_as_the_librarys(specs: List[FieldSpec], is_frozen: bool) -> None:
    theirs, ours = _twins(specs, is_frozen)
    calls: List[Tuple[Tuple[Any, ...], Dict[str, Any]]] = [
        ((), {}),
        (tuple(range(len(specs) + 1)), {}),
        ((), {"nope": 1}),
        ((1,), {"f0": 1}),
    ]
    for args, kwargs in calls:
        assert _outcome(lambda a=args, k=kwargs: repr(ours(*a, **k))) == _outcome(
            lambda a=args, k=kwargs: repr(theirs(*a, **k))
        )


def test_a_default_before_a_required_field_is_refused_at_definition() -> None:
    specs: List[FieldSpec] = [("default", True, True, None), ("required", True, True, None)]
    with pytest.raises(TypeError, match="non-default argument 'f1' follows default argument"):
        frozen.dataclass(frozen=True)(type("Record", (), _body(specs)))
    with pytest.raises(TypeError, match="non-default argument 'f1' follows default argument"):
        dataclasses.dataclass(frozen=True)(type("Record", (), _body(specs)))


def test_a_mutable_default_is_refused_as_by_the_library() -> None:
    body = {"__doc__": "A record.", "__annotations__": {"items": "list"}, "items": []}
    with pytest.raises(ValueError, match="mutable default"):
        frozen.dataclass(frozen=True)(type("Record", (), dict(body)))


@dataclasses.dataclass(frozen=True)
class _Pickled:
    """Module level, so that pickle can find it."""

    name: str
    items: Tuple[int, ...] = ()


_Ours = frozen.dataclass(frozen=True)(
    type("_Ours", (), _body([("required", True, True, None), ("factory", True, True, None)]))
)


def test_pickle_copy_and_deepcopy_keep_the_value() -> None:
    sys.modules[__name__]._Ours = _Ours  # type: ignore[attr-defined]
    value = _Ours(1, [2])
    for twin in (pickle.loads(pickle.dumps(value)), copy.copy(value), copy.deepcopy(value)):
        assert twin == value and twin is not value


def test_the_class_reports_itself_frozen() -> None:
    assert _Ours.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert dataclasses.is_dataclass(_Ours)


def test_what_it_does_not_build_goes_to_the_library() -> None:
    """A class without a docstring (the library derives one from its compiled __init__), an
    order=True class and one with its own __post_init__ are the library's classes."""
    nodoc = frozen.dataclass(frozen=True)(type("Plain", (), {"__annotations__": {"a": "int"}}))
    assert nodoc.__doc__ == "Plain(a: 'int')"
    ordered = frozen.dataclass(frozen=True, order=True)(
        type("Ordered", (), {"__doc__": "x", "__annotations__": {"a": "int"}})
    )
    assert ordered(1) < ordered(2)
    calls: List[int] = []
    body = {"__doc__": "x", "__annotations__": {"a": "int"}, "__post_init__": lambda self: calls.append(self.a)}
    frozen.dataclass(frozen=True)(type("Posted", (), body))(5)
    assert calls == [5]


def _package_classes() -> List[type]:
    found = []
    for module_info in pkgutil.walk_packages(cnidoctor.__path__, "cnidoctor."):
        module = importlib.import_module(module_info.name)
        found += [
            value
            for value in vars(module).values()
            if inspect.isclass(value) and value.__module__ == module.__name__ and dataclasses.is_dataclass(value)
        ]
    return found


def test_every_record_class_of_the_package_is_built_cheaply() -> None:
    """The point of the module: no class of the package pays for compiled methods at import (the
    one order=True class excepted)."""
    classes = _package_classes()
    assert len(classes) > 100
    library_built = [cls.__qualname__ for cls in classes if "<string>" in cls.__eq__.__code__.co_filename]
    assert library_built == ["Release"]
