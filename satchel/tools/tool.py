"""What a tool is: a typed Python function plus the metadata MCP publishes for it, made by one decorator.

A tool is a plain function returning its result, or a generator function that ``yield``s ``Progress`` between steps
and ``return``s its result. Each ``yield`` is a point where the server may send a progress notification and where a
cancellation takes effect (the generator is closed), so one long call never blocks a single-threaded host such as
a browser worker. A tool that blocks inside one step (e.g. an SQLite query) can take a ``ToolContext`` parameter and
poll ``context.cancelled``.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Generic, ParamSpec, TypeVar, get_type_hints

from satchel.tools.schema import JsonSchema, input_schema, output_schema, parse_docstring

P = ParamSpec("P")
R = TypeVar("R")


class ToolError(Exception):
    """A failure the caller can act on; it becomes an ``isError: true`` result carrying this message."""


@dataclass(frozen=True)
class Progress:
    """One step of a long tool call; ``progress`` must grow from one step to the next."""

    progress: float
    total: float | None = None
    message: str | None = None


@dataclass
class ToolContext:
    """Handed to tools that ask for it by annotating a parameter with this type."""

    cancelled: bool = False


@dataclass(frozen=True)
class ToolAnnotations:
    """MCP tool annotations: hints to the client about side effects (the defaults are the spec's defaults)."""

    read_only: bool = False
    destructive: bool = True
    idempotent: bool = False
    open_world: bool = True
    title: str | None = None

    def to_json(self) -> dict[str, Any]:
        hints: dict[str, Any] = {
            "readOnlyHint": self.read_only,
            "destructiveHint": self.destructive,
            "idempotentHint": self.idempotent,
            "openWorldHint": self.open_world,
        }
        if self.title:
            hints["title"] = self.title
        return hints


PURE_FUNCTION = ToolAnnotations(read_only=True, destructive=False, idempotent=True, open_world=False)
"""A tool that only computes from its arguments: no side effects, same answer every time, no outside world."""


@dataclass(frozen=True)
class Tool(Generic[P, R]):
    """A registered tool; calling it calls the function, ``run`` drives it to its result."""

    function: Callable[P, R]
    name: str
    title: str | None
    description: str
    input_schema: JsonSchema
    output_schema: JsonSchema | None
    annotations: ToolAnnotations
    context_parameter: str | None = None
    enum_parameters: dict[str, type[enum.Enum]] = field(default_factory=dict)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.function(*args, **kwargs)

    @property
    def is_generator(self) -> bool:
        return inspect.isgeneratorfunction(self.function)

    def definition(self) -> dict[str, Any]:
        """The entry for ``tools/list``."""
        entry: dict[str, Any] = {"name": self.name}
        if self.title:
            entry["title"] = self.title
        entry["description"] = self.description
        entry["inputSchema"] = self.input_schema
        if self.output_schema is not None:
            entry["outputSchema"] = self.output_schema
        entry["annotations"] = self.annotations.to_json()
        return entry

    def steps(self, arguments: dict[str, Any], context: ToolContext) -> Generator[Progress, None, object]:
        """Run the tool as a generator of progress steps, whichever kind of function it is."""
        kwargs = dict(arguments)
        for name, enum_type in self.enum_parameters.items():
            if name in kwargs:
                kwargs[name] = enum_type(kwargs[name])
        if self.context_parameter is not None:
            kwargs[self.context_parameter] = context
        outcome: Any = self.function(**kwargs)  # type: ignore[call-arg]
        if inspect.isgenerator(outcome):
            return (yield from outcome)
        return outcome

    def run(self, arguments: dict[str, Any]) -> object:
        """Call the tool in-process and return its result, discarding progress (tests and benchmarks)."""
        steps = self.steps(arguments, ToolContext())
        while True:
            try:
                next(steps)
            except StopIteration as stop:
                return stop.value


def tool(
    *, name: str | None = None, title: str | None = None, annotations: ToolAnnotations = PURE_FUNCTION
) -> Callable[[Callable[P, R]], Tool[P, R]]:
    """Make a function a tool: its name, docstring and type hints become the published name, schemas and help."""

    def wrap(function: Callable[P, R]) -> Tool[P, R]:
        hints = get_type_hints(function)
        description, _ = parse_docstring(function.__doc__)
        if not description:
            raise TypeError(
                f"{function.__name__}: a tool needs a docstring; it is the description clients show"
            )
        context_parameter = next((key for key, hint in hints.items() if hint is ToolContext), None)
        enum_parameters = {
            key: hint
            for key, hint in hints.items()
            if key != "return" and isinstance(hint, type) and issubclass(hint, enum.Enum)
        }
        return Tool(
            function=function,
            name=name or function.__name__,
            title=title or annotations.title,
            description=description,
            input_schema=input_schema(function, ToolContext),
            output_schema=output_schema(function),
            annotations=annotations,
            context_parameter=context_parameter,
            enum_parameters=enum_parameters,
        )

    return wrap
