"""Every model parameter, once: default, type, range or choices, label and meaning.

Each model has one :class:`ParameterTable`. From it come the model's keyword signature and the
"Parameters" section of its docstring, the checks of its constructor, the controls of the
browser page, the ``--set`` help of the command line and the checks of a sweep spec. A bad value
raises :class:`ParameterError`, which names the parameter in ``.name`` as well as in its message.

This module imports nothing heavy, so the command line can describe parameters quickly.
"""

from __future__ import annotations

import inspect
import math
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

# Choices come from where the rules live; these modules import only NumPy.
from glianet.agents.functions import ACTIVATIONS, SIG_RULES
from glianet.tasks import TASKS, Task, task_family

KINDS = ("int", "real", "bool", "choice", "other")


class ParameterError(ValueError):
    """A model parameter has a value the model cannot use.

    Attributes
    ----------
    name : str
        The parameter (``"layers"``, ``"eta"``, ...), for callers that point at where it was set.
    """

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def check_int(name: str, value: Any, low: float | None = None, high: float | None = None) -> int:
    """``value`` as an int (NumPy integers too); ParameterError unless ``low <= value <= high``."""
    if isinstance(value, bool) or not isinstance(value, Integral) or _is_numpy_bool(value):
        raise ParameterError(name, f"{name}={value!r} is invalid: it must be an integer")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"between {low} and {high}"
        raise ParameterError(name, f"{name}={value!r} is invalid: it must be {bounds}")
    return int(value)


def check_real(
    name: str,
    value: Any,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a float; ParameterError unless it is finite and in the interval."""
    if (
        isinstance(value, bool)
        or _is_numpy_bool(value)
        or not isinstance(value, Real)
        or not math.isfinite(value)
    ):
        raise ParameterError(name, f"{name}={value!r} is invalid: it must be a finite number")
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ParameterError(name, f"{name}={value!r} is invalid: it must lie in {interval}")
    return float(value)


def check_bool(name: str, value: Any) -> bool:
    """``value`` as a bool (``numpy.bool_`` too); ParameterError for anything else."""
    if not isinstance(value, bool) and not _is_numpy_bool(value):
        raise ParameterError(name, f"{name}={value!r} is invalid: it must be True or False")
    return bool(value)


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """``value`` itself; ParameterError unless it is one of ``choices``."""
    choices = tuple(choices)
    if not isinstance(value, str | int) or value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ParameterError(name, f"{name}={value!r} is invalid: it must be one of {allowed}")
    return value


def check_sizes(name: str, value: Any, minimum_length: int = 2) -> tuple[int, ...]:
    """A sequence (list, tuple, 1-D array) of integers >= 1, as a tuple of ints."""
    if isinstance(value, str | bytes) or not hasattr(value, "__len__"):
        raise ParameterError(
            name, f"{name}={value!r} is invalid: it must be a list of at least 2 layer sizes"
        )
    if getattr(value, "ndim", 1) != 1 or len(value) < minimum_length:
        raise ParameterError(
            name,
            f"{name}={value!r} is invalid: it must be a list of at least {minimum_length} "
            "layer sizes",
        )
    return tuple(check_int(f"{name}[{i}]", n, 1) for i, n in enumerate(value))


def _is_numpy_bool(value: Any) -> bool:
    return type(value).__name__ == "bool" and type(value).__module__ == "numpy"


@dataclass(frozen=True)
class Parameter:
    """One keyword parameter of a model.

    Parameters
    ----------
    name : str
        The keyword.
    default : object
        Its value when not given.
    kind : {"int", "real", "bool", "choice", "other"}
        How a value is checked: "other" uses ``check``.
    label : str
        A short label (the browser page shows it).
    help : str
        What it means, with the paper's name and the reading chosen where the paper is silent.
    low, high : float, optional
        Allowed interval of an "int" or "real" parameter.
    low_open, high_open : bool
        Whether the interval excludes its ends.
    choices : tuple
        Allowed values of a "choice" parameter.
    check : callable, optional
        ``check(name, value) -> value`` for an "other" parameter.
    ui : tuple, optional
        ``(min, max, step)`` of its browser slider, or ``()`` for a choice or a check box; None
        keeps it off the page.
    task_defaults : mapping
        Defaults that depend on the task (by task family), over ``default``.
    """

    name: str
    default: Any
    kind: str
    label: str
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple = ()
    check: Callable[[str, Any], Any] | None = None
    ui: tuple | None = None
    task_defaults: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"parameter {self.name}: kind {self.kind!r} is not one of {KINDS}")

    def validate(self, value: Any) -> Any:
        """``value``, checked (and converted: NumPy numbers to Python ones).

        Raises
        ------
        ParameterError
            Naming this parameter, its value and what is allowed.
        """
        low = -math.inf if self.low is None else self.low
        high = math.inf if self.high is None else self.high
        if self.kind == "int":
            return check_int(self.name, value, self.low, self.high)
        if self.kind == "real":
            return check_real(self.name, value, low, high, self.low_open, self.high_open)
        if self.kind == "bool":
            return check_bool(self.name, value)
        if self.kind == "choice":
            return check_choice(self.name, value, self.choices)
        return self.check(self.name, value) if self.check else value

    def allowed(self) -> str:
        """What values are allowed, in words."""
        if self.kind == "choice":
            return " | ".join(repr(c) for c in self.choices)
        if self.kind == "bool":
            return "True | False"
        if self.kind in ("int", "real"):
            lo = "-inf" if self.low is None else f"{self.low:g}"
            hi = "inf" if self.high is None else f"{self.high:g}"
            brackets = ("(" if self.low_open else "[", ")" if self.high_open else "]")
            return f"{self.kind} in {brackets[0]}{lo}, {hi}{brackets[1]}"
        return "see help"


class ParameterTable:
    """The parameters of one model, in signature order.

    Parameters
    ----------
    model : str
        The model's class name (for messages).
    parameters : sequence of Parameter
        Every keyword parameter but ``rng``.
    task_family : callable, optional
        ``task_family(task) -> str`` names the family of a ``task`` value, for
        :attr:`Parameter.task_defaults`.
    """

    def __init__(
        self,
        model: str,
        parameters: Sequence[Parameter],
        task_family: Callable[[Any], str] | None = None,
    ) -> None:
        self.model = model
        self.by_name = {p.name: p for p in parameters}
        self.task_family = task_family

    def __iter__(self):
        return iter(self.by_name.values())

    def __contains__(self, name: str) -> bool:
        return name in self.by_name

    def __getitem__(self, name: str) -> Parameter:
        return self.by_name[name]

    @property
    def names(self) -> list[str]:
        """Parameter names in signature order."""
        return list(self.by_name)

    def defaults(self, task: Any = None) -> dict[str, Any]:
        """Every parameter's default, for ``task`` (default: the table's default task)."""
        values = {p.name: p.default for p in self}
        if "task" in self.by_name and self.task_family is not None:
            family = self.task_family(values["task"] if task is None else task)
            for p in self:
                if family in p.task_defaults:
                    values[p.name] = p.task_defaults[family]
        return values

    def validate(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Every parameter's value: ``given`` ones checked, the others at their defaults.

        Raises
        ------
        ParameterError
            For an unknown name or a bad value, naming the parameter.
        """
        unknown = [name for name in given if name not in self.by_name]
        if unknown:
            raise ParameterError(
                unknown[0],
                f"{unknown[0]} is not a parameter of {self.model}; its parameters: "
                f"{', '.join(self.names)}, rng, agent_reporters",
            )
        values = self.defaults(given.get("task"))
        for name, value in given.items():
            values[name] = self.by_name[name].validate(value)
        return values

    def signature(self) -> inspect.Signature:
        """The model's ``__init__`` signature: ``self``, every parameter, ``rng`` and
        ``agent_reporters``; keyword-only."""
        keyword = inspect.Parameter.KEYWORD_ONLY
        return inspect.Signature(
            [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
            + [inspect.Parameter(p.name, keyword, default=p.default) for p in self]
            + [inspect.Parameter("rng", keyword, default=None)]
            + [inspect.Parameter("agent_reporters", keyword, default=False)]
        )

    def docstring(self) -> str:
        """A numpydoc "Parameters" section."""
        lines = ["Parameters", "----------"]
        for p in self:
            lines.append(f"{p.name} : {p.allowed()}, default {p.default!r}")
            text = p.help
            if p.task_defaults:
                per_task = ", ".join(f"{k}: {v!r}" for k, v in p.task_defaults.items())
                text += f" Default per task: {per_task}."
            lines.append(f"    {text}")
        lines.append("rng : int or numpy.random.Generator, optional")
        lines.append("    Seed; every random draw of the run comes from ``self.rng``.")
        lines.append("agent_reporters : bool or dict, default False")
        lines.append(
            "    Per-agent data in the DataCollector (and in ``mesa.batch_run``'s rows): True for "
            "the model's ``AGENT_REPORTERS``, or ``{agent class: {column: attribute name or "
            "function}}`` of your own."
        )
        return "\n".join(lines)

    def describe(self) -> str:
        """Each parameter: name, default, allowed values, then its meaning (for the CLI)."""
        blocks = []
        for p in self:
            per_task = "".join(f"; {k}: {v!r}" for k, v in p.task_defaults.items())
            blocks.append(
                f"{p.name}  (default {p.default!r}{per_task}; {p.allowed()})\n"
                + textwrap.fill(p.help, width=96, initial_indent="    ", subsequent_indent="    ")
            )
        return "\n".join(blocks)


def uses_table(cls: type) -> type:
    """Class decorator: the model's ``__init__`` signature and docstring come from its table."""
    table: ParameterTable = cls.parameters
    cls.__init__.__signature__ = table.signature()
    doc = inspect.cleandoc(cls.__doc__ or "")
    summary, notes, rest = doc.partition("\nNotes\n-----")
    cls.__doc__ = f"{summary.rstrip()}\n\n{table.docstring()}\n{notes}{rest}"
    return cls


# -- the two models' tables -----------------------------------------------------------------
ENGINES = ("vectorized", "agents")
GLIA_TOPOLOGIES = ("synaptic", "ring", "complete", "none")


def check_task(name: str, value: Any) -> Any:
    """A registered task name or a :class:`~glianet.tasks.Task`."""
    if isinstance(value, Task) or (isinstance(value, str) and value in TASKS):
        return value
    raise ParameterError(
        name, f"{name}={value!r} is not a known task; choose one of {sorted(TASKS)} or pass a Task"
    )


def check_glia_layers(name: str, value: Any) -> tuple[int, ...] | None:
    """None (glia where ``protect_io`` puts them) or layer indices >= 1."""
    if value is None:
        return None
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        raise ParameterError(name, f"{name}={value!r} is invalid: it must be a list of layers")
    return tuple(sorted({check_int(name, layer, 1) for layer in value}))


def check_glia_topology(name: str, value: Any) -> Any:
    """A topology name or a NetworkX graph (its nodes are checked by the model)."""
    if hasattr(value, "nodes") and hasattr(value, "edges"):
        return value
    return check_choice(name, value, GLIA_TOPOLOGIES)


NG_PARAMETERS = ParameterTable(
    "NGModel",
    [
        Parameter(
            "layers",
            (6, 8, 8, 8, 1),
            "other",
            "layer sizes",
            "Neurons per layer, input to output (paper: 6, 8, 8, 8, 1); the first and last "
            "must match the task's inputs and outputs.",
            check=check_sizes,
        ),
        Parameter(
            "task",
            "any-upper-3",
            "other",
            "data",
            "The data: a registered task name or a Task (default: the paper's 6-bit task, "
            "target 1 iff any of the upper 3 bits is set).",
            check=check_task,
        ),
        Parameter(
            "eta",
            0.5,
            "real",
            "learning rate eta",
            "Learning rate of online backpropagation (paper: 0.5).",
            low=0.0,
            low_open=True,
            ui=(0.05, 2.0, 0.05),
        ),
        Parameter(
            "mini_batch_size",
            100,
            "int",
            "mini-batch size",
            "Samples between two pruning rounds (paper's miniBatchSize: 100).",
            low=1,
            ui=(10, 500, 10),
        ),
        Parameter(
            "samples_per_epoch",
            2000,
            "int",
            "samples per epoch",
            "Samples per epoch, drawn uniformly from the task's patterns. The paper does "
            "not define an epoch; 2000 (20 pruning rounds) reproduces its curve.",
            low=1,
            ui=(100, 10000, 100),
        ),
        Parameter(
            "epochs",
            100,
            "int",
            "epochs",
            "Steps (epochs) after which the model stops.",
            low=0,
            ui=(1, 500, 1),
        ),
        Parameter(
            "sig0",
            0.5,
            "real",
            "initial sig",
            "Initial inhibition signal of every Glia-Agent (paper: 0.5).",
            low=0.0,
            high=1.0,
            ui=(0.0, 1.0, 0.05),
        ),
        Parameter(
            "A",
            0.01,
            "real",
            "burst loss per hop A",
            "Loss of a glia burst per hop on the glia network (paper: 0.01).",
            low=0.0,
            ui=(0.0, 0.2, 0.005),
        ),
        Parameter(
            "alpha",
            0.01,
            "real",
            "sig step alpha",
            "Step of the sig update, eq. 2.4 (paper: 0.01).",
            low=0.0,
            ui=(0.0, 0.1, 0.005),
        ),
        Parameter(
            "beta",
            6 * math.log(3),
            "real",
            "sig steepness beta",
            "Steepness of the sig update, eq. 2.4 (paper: 6 ln 3).",
        ),
        Parameter(
            "z",
            2.3,
            "real",
            "outlier z",
            "A neuron's output is an outlier on a sample "
            "when it lies more than z standard deviations (population std, the neuron "
            "itself included) from the mean of its layer. The paper gives no value. In an "
            "n-neuron layer the largest possible deviation is sqrt(n - 1) std (2.65 for "
            "n = 8).",
            low=0.0,
            ui=(0.5, 3.0, 0.1),
        ),
        Parameter(
            "sig_rule",
            "logistic",
            "choice",
            "sig rule",
            "Reading of the paper's eq. 2.4 (see glianet.agents.functions.sig_step).",
            choices=SIG_RULES,
            ui=(),
        ),
        Parameter(
            "activation",
            "sigmoid",
            "choice",
            "activation",
            "phi of the neurons.",
            choices=tuple(ACTIVATIONS),
            ui=(),
        ),
        Parameter(
            "pruning",
            True,
            "bool",
            "glia pruning",
            "Whether the glia prune at all (False: the paper's no-pruning baseline).",
            ui=(),
        ),
        Parameter(
            "protect_io",
            True,
            "bool",
            "protect input/output synapses",
            "True: synapses of the input and output layers are never pruned, and glia sit "
            "on the hidden layers with hidden predecessors. False: glia on every hidden "
            "layer, any incoming synapse prunable.",
            ui=(),
        ),
        Parameter(
            "glia_layers",
            None,
            "other",
            "glia layers",
            "Layers whose neurons get a Glia-Agent, overriding the choice protect_io implies.",
            check=check_glia_layers,
        ),
        Parameter(
            "glia_topology",
            "synaptic",
            "other",
            "glia network",
            "The glia network: "
            "'synaptic' (GA i ~ GA j when their neurons were joined by a synapse in the "
            "initial network), 'ring', 'complete', 'none', or a NetworkX graph on the glia "
            "indices 0..n-1.",
            choices=GLIA_TOPOLOGIES,
            check=check_glia_topology,
            ui=(),
        ),
        Parameter(
            "keep_last_synapse",
            True,
            "bool",
            "keep last incoming synapse",
            "The guard: a neuron never loses its last incoming synapse.",
            ui=(),
        ),
        Parameter(
            "engine",
            "vectorized",
            "choice",
            "engine",
            "Which path runs the phases: "
            "'agents' (each agent applies its rule) or 'vectorized' (the same rules over "
            "the arrays at once); both give the same trajectory for the same seed.",
            choices=ENGINES,
            ui=(),
        ),
    ],  # fmt: skip
    task_family=task_family,
)

MASDA_PARAMETERS = ParameterTable(
    "MASDAModel",
    [
        Parameter(
            "task",
            "any-upper-3",
            "other",
            "data",
            "The data: inputs become constant units, targets become teacher constant units.",
            check=check_task,
            choices=("any-upper-3", "digits"),
            ui=(),
        ),
        Parameter(
            "n_units",
            16,
            "int",
            "variable units",
            "Variable units at the start (and the population kept, as culled units are replaced).",
            low=1,
            ui=(1, 200, 1),
            task_defaults={"digits": 100},
        ),
        Parameter(
            "eta",
            0.01,
            "real",
            "learning rate eta",
            "Learning rate; changes are summed "
            "over the epoch (batch update, as the paper says), so it scales with "
            "1 / samples.",
            low=0.0,
            low_open=True,
            ui=(0.0005, 0.1, 0.0005),
            task_defaults={"digits": 0.0005},
        ),
        Parameter(
            "corruption",
            0.2,
            "real",
            "input corruption",
            "Corruption rate of the input constants.",
            low=0.0,
            high=1.0,
            ui=(0.0, 1.0, 0.05),
        ),
        Parameter(
            "label_corruption",
            1.0,
            "real",
            "label corruption",
            "Corruption rate of the teacher constants (1.0: labels are only ever predicted).",
            low=0.0,
            high=1.0,
        ),
        Parameter(
            "hidden_corruption",
            0.2,
            "real",
            "stable unit corruption",
            "Corruption rate "
            "of a variable unit once stable (it is then an input of the next depth).",
            low=0.0,
            high=1.0,
            ui=(0.0, 1.0, 0.05),
        ),
        Parameter(
            "stable_score",
            0.8,
            "real",
            "score to stabilize",
            "A -> B needs the epoch's mean reward >= stable_score ...",
            low=0.0,
            high=1.0,
            ui=(0.0, 1.0, 0.01),
        ),
        Parameter(
            "stable_tol",
            0.02,
            "real",
            "weight change to stabilize",
            "... and the relative change of the prev weights over the epoch < stable_tol.",
            low=0.0,
            ui=(0.0, 0.5, 0.005),
        ),
        Parameter(
            "cull_fraction",
            0.1,
            "real",
            "cull fraction",
            "Share of the state-A units, lowest scores first, culled after each epoch.",
            low=0.0,
            high=1.0,
            high_open=True,
            ui=(0.0, 0.9, 0.05),
        ),
        Parameter(
            "min_age",
            5,
            "int",
            "min age before culling",
            "Epochs a unit is spared from culling after it connects.",
            low=0,
            ui=(0, 50, 1),
        ),
        Parameter(
            "max_depth",
            2,
            "int",
            "max depth",
            "Deepest depth a variable unit may take.",
            low=1,
            ui=(1, 5, 1),
        ),
        Parameter(
            "pretrain_epochs",
            30,
            "int",
            "pretraining epochs",
            "Epochs of pretraining; then running becomes False.",
            low=0,
            ui=(1, 300, 1),
        ),
        Parameter(
            "latency",
            0.0,
            "real",
            "message latency",
            "Delivery delay of a message "
            "(engine 'agents'): each message arrives after latency times 1, 2 or 3 hop "
            "times (by sender), so messages interleave as in a real discrete-event run; "
            "the result is the same.",
            low=0.0,
            ui=(0.0, 5.0, 0.5),
        ),
        Parameter(
            "engine",
            "vectorized",
            "choice",
            "engine",
            "How the samples' messages are "
            "computed: 'agents' (each message an event on the model's event list) or "
            "'vectorized' (in bulk); both give the same run.",
            choices=ENGINES,
            ui=(),
        ),
    ],  # fmt: skip
    task_family=task_family,
)

#: The tables by the name a sweep spec or the command line uses.
TABLES = {"ng": NG_PARAMETERS, "masda": MASDA_PARAMETERS}
