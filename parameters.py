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
from glianet.agents.functions import ACTIVATIONS, OUTPUTS, SENSING_Z, SENSINGS, SIG_RULES
from glianet.engines import ENGINES
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
GLIA_TOPOLOGIES = ("synaptic", "ring", "complete", "none")


def check_task(name: str, value: Any) -> Any:
    """A registered task name or a :class:`~glianet.tasks.Task`."""
    if isinstance(value, Task) or (isinstance(value, str) and value in TASKS):
        return value
    raise ParameterError(
        name, f"{name}={value!r} is not a known task; choose one of {sorted(TASKS)} or pass a Task"
    )


def check_z(name: str, value: Any) -> float | None:
    """None (the sensing reading's default) or a finite number >= 0."""
    return None if value is None else check_real(name, value, 0.0)


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
            "not define an epoch; with 2000 (20 pruning rounds) 90 % of the pruning is done by "
            "epoch ~33 (paper: ~40).",
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
            "sensing",
            "layer",
            "choice",
            "outlier reading",
            "Reading of the paper's 'an outlier compared with its adjacent NAs' (eq. 2.3): "
            "each sample on which a glia neuron's output is an outlier counts towards its "
            "activity f. 'layer' (the literal reading): |y - mean| > z std over the neurons of "
            "its layer, population std, the neuron included. 'layer-sample': the same with the "
            "sample std. 'synaptic': over the neuron and the neurons joined to it by a synapse "
            "that is still there. 'running': against the neuron's own running mean and std "
            "(exact over its first mini_batch_size samples, then exponential averages with "
            "rate 1 / mini_batch_size; no outlier before that). 'off': never an outlier, "
            "f = 0. See glianet.agents.functions.senses_outlier.",
            choices=tuple(SENSINGS),
            ui=(),
        ),
        Parameter(
            "z",
            None,
            "other",
            "outlier z",
            "Outlier threshold in standard deviations; None: the reading's default "
            f"({', '.join(f'{k}: {v:g}' for k, v in SENSING_Z.items())}). The paper gives no "
            "value. With the population std no neuron of an n-neuron layer can lie more than "
            "sqrt(n - 1) std from the mean (2.65 for n = 8), with the sample std (n - 1) / "
            "sqrt(n) (2.47): near that bound f is 0 almost always (the earlier default 2.3 "
            "gave f > 0 in 2 % of glia rounds, and the synapse curve of no sensing). At 1.5, "
            "f > 0 in about a quarter of the rounds and busy neurons keep their synapses. For "
            "'running' any z up to 2.5 makes every neuron an outlier on ~10 % of its samples, "
            "all sig rise to 1 and pruning stops; hence 3. Measured in the README and "
            "notebook 01.",
            check=check_z,
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
            "phi of the neurons (of the hidden neurons only under output='softmax-ce').",
            choices=tuple(ACTIVATIONS),
            ui=(),
        ),
        Parameter(
            "output",
            "sigmoid-mse",
            "choice",
            "output layer and loss",
            "The output layer and its loss. 'sigmoid-mse' (the paper's): output neurons apply "
            "phi and learn the squared error (y - t)^2 / 2. 'softmax-ce' (for classification): "
            "the output layer is a softmax, y_i = exp(a_i) / sum_k exp(a_k), learning the "
            "cross-entropy -sum_k t_k log y_k; the task's targets must be distributions over "
            ">= 2 outputs (e.g. one-hot labels).",
            choices=tuple(OUTPUTS),
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
            "empty_order_resets",
            True,
            "bool",
            "empty prune orders reset sig",
            "Whether a GA whose prune order finds nothing to prune (its neuron is at the guard "
            "or has no prunable synapse left) still fires: sig to 1 and a burst over the glia "
            "network. True: as the paper, which resets sig when the GA fires, whatever its "
            "neuron did. False: such a GA keeps its sig and sends no burst (measured: the "
            "synapse curve is the same; the GAs at the floor then order a prune nearly every "
            "round).",
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
        Parameter(
            "synapse_agents",
            "eager",
            "choice",
            "synapse agents",
            "When Synapse-Agents exist: 'eager' (every synapse is an agent on an edge of the "
            "network space from the start, about 1 kB a synapse) or 'lazy' (synapses live in "
            "the arrays alone, tens of bytes each; a synapse's agent is made when it is asked "
            "for: model.synapse(pre, post), a neuron's incoming synapses, grid.G's edges, "
            "drawing, or a prune order, and kept until the synapse is pruned; model.agents "
            "holds only those made). 'lazy' needs engine 'vectorized' and follows the same "
            "trajectory as 'eager'.",
            choices=("eager", "lazy"),
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
            "over the epoch (batch update, as the paper says) or over update_every samples, "
            "so it scales with 1 / samples summed.",
            low=0.0,
            low_open=True,
            ui=(0.0005, 0.1, 0.0005),
            task_defaults={"digits": 0.00625},
        ),
        Parameter(
            "update_every",
            0,
            "int",
            "samples per weight update",
            "0: the weight changes are summed over the epoch and applied at its end (the "
            "paper's batch update); k > 0: applied after every k samples within the epoch "
            "(mini-batches). Scores, stability and culling stay per epoch. Digits: 32, as "
            "a batch update over 1,347 samples learns too slowly for 300 epochs.",
            low=0,
            ui=(0, 256, 1),
            task_defaults={"digits": 32},
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
            "stable_window",
            10,
            "int",
            "plateau window (epochs)",
            "A -> B once learning has plateaued (assumption 2): every stable_window epochs of "
            "its life a unit measures how much it still learns (see plateau) ...",
            low=1,
            ui=(1, 100, 1),
            task_defaults={"digits": 25},
        ),
        Parameter(
            "stable_age",
            20,
            "int",
            "min age to stabilize",
            "... from this age (epochs since it joined) on ...",
            low=1,
            ui=(1, 500, 1),
            task_defaults={"digits": 100},
        ),
        Parameter(
            "stable_tol",
            0.03,
            "real",
            "plateau: progress below",
            "... and progress below stable_tol makes it stable.",
            low=0.0,
            ui=(0.0, 0.5, 0.005),
            task_defaults={"digits": 0.1},
        ),
        Parameter(
            "plateau",
            "reward",
            "choice",
            "plateau signal",
            "What a unit measures at each mark: 'reward', the relative improvement of the error "
            "of the reward units it feeds (the same for every unit of a depth, so a cohort turns "
            "stable together); 'weights', the relative change of its own prev weights since "
            "the last mark (per unit; keeps a copy of the weights, 1.5x the memory).",
            choices=("reward", "weights"),
            ui=(),
            task_defaults={"digits": "weights"},
        ),
        Parameter(
            "cull",
            "stochastic",
            "choice",
            "culling",
            "'stochastic' (paper §2: units without reward die stochastically): a state-A unit "
            "dies with probability cull_rate * exp(-score / score_scale) per epoch; 'fraction': "
            "the cull_fraction of the state-A units with the lowest scores die.",
            choices=("stochastic", "fraction"),
            ui=(),
        ),
        Parameter(
            "cull_rate",
            0.02,
            "real",
            "death rate without credit",
            "Death probability per epoch of a unit that earns no credit (cull='stochastic').",
            low=0.0,
            high=1.0,
            ui=(0.0, 0.2, 0.005),
            task_defaults={"digits": 0.01},
        ),
        Parameter(
            "score_scale",
            0.003,
            "real",
            "score that divides it by e",
            "Score (credit per sample, running mean over the unit's life) that divides the "
            "death probability by e.",
            low=0.0,
            low_open=True,
            ui=(0.0005, 0.05, 0.0005),
            task_defaults={"digits": 0.03},
        ),
        Parameter(
            "cull_fraction",
            0.1,
            "real",
            "cull fraction",
            "Share of the state-A units, lowest scores first, culled after each epoch "
            "(cull='fraction').",
            low=0.0,
            high=1.0,
            high_open=True,
            ui=(0.0, 0.9, 0.05),
        ),
        Parameter(
            "min_age",
            10,
            "int",
            "min age before culling",
            "Epochs a unit is spared from culling after it connects.",
            low=0,
            ui=(0, 100, 1),
            task_defaults={"digits": 30},
        ),
        Parameter(
            "max_depth",
            2,
            "int",
            "max depth",
            "Deepest depth a variable unit may take (at most 100: the data has three "
            "columns per depth, and a depth needs a stable unit at every depth below it).",
            low=1,
            high=100,
            ui=(1, 5, 1),
        ),
        Parameter(
            "pretrain_epochs",
            30,
            "int",
            "pretraining epochs",
            "Epochs of pretraining; then running becomes False.",
            low=0,
            ui=(1, 500, 1),
            task_defaults={"digits": 300},
        ),
        Parameter(
            "layer_free",
            False,
            "bool",
            "layer-free",
            "A joining unit of depth d + 1 takes as inputs the stable units of every depth up "
            "to d and the data constants (the paper: 'the layers are removed'), not only those "
            "of depth d.",
            ui=(),
        ),
        Parameter(
            "teacher",
            True,
            "bool",
            "labels as data",
            "Make teacher constants of the task's targets (assumption 1: labels are data too); "
            "False: pretraining sees the inputs only.",
            ui=(),
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
