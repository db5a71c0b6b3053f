"""The shape of the package: floors of imports, one parameter table per model, the network space."""

import ast
import inspect
import random
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from glianet.model import MASDAModel, NGModel
from glianet.parameters import MASDA_PARAMETERS, NG_PARAMETERS, ParameterError
from glianet.space import DirectedNetwork

ROOT = Path(__file__).resolve().parents[1]

#: Floors, bottom first: a module may import its own floor and those below, never one above.
FLOORS = [
    {"agents", "state", "tasks", "space", "parameters", "outputs", "checkpoint", "engines"},
    {"model", "schedules"},
    {"experiments", "sweeps"},
    {"cli", "server", "serve"},
]


def floor_of(module: str) -> int:
    top = module.split(".")[1]
    return next(i for i, names in enumerate(FLOORS) if top in names)


def package_modules():
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if (
            parts[0] in {"tests", "benchmarks", "notebooks", "scripts", "build"}
            or parts[0][0] == "."
        ):
            continue
        if parts == ("__init__.py",):
            continue  # the package's front door re-exports the models
        yield path, ".".join(("glianet", *parts[:-1], path.stem))


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("glianet"):
            names.add(node.module if node.module != "glianet" else f"glianet.{node.names[0].name}")
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith("glianet.")}
    return names


def test_no_module_imports_one_above_it():
    climbing = []
    for path, module in package_modules():
        here = floor_of(module)
        for imported in imported_modules(path):
            if floor_of(imported) > here:
                climbing.append(f"{module} (floor {here}) imports {imported}")
    assert climbing == []


def test_the_floor_test_sees_a_climbing_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from glianet.experiments.figures import draw_network\n")
    assert floor_of(next(iter(imported_modules(bad)))) > floor_of("glianet.agents.neuron")


# -- parameter tables ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cls", "table"), [(NGModel, NG_PARAMETERS), (MASDAModel, MASDA_PARAMETERS)]
)
def test_signature_and_docstring_come_from_the_table(cls, table):
    signature = inspect.signature(cls)
    assert list(signature.parameters) == [*table.names, "rng", "agent_reporters"]
    for p in table:
        assert signature.parameters[p.name].default == p.default
        assert f"\n{p.name} : " in cls.__doc__
    model = cls(rng=0, **({"epochs": 0} if cls is NGModel else {"pretrain_epochs": 0}))
    resolved = ("task", "layers", "glia_layers", "z")  # a default the model works out
    for name in table.names:
        if name not in resolved:
            assert getattr(model, name) == model.params[name]


def test_per_task_defaults_come_from_the_table():
    digits = MASDA_PARAMETERS["eta"].task_defaults["digits"]
    assert digits != MASDA_PARAMETERS["eta"].default
    assert MASDAModel(rng=0, task="digits", pretrain_epochs=0).eta == digits
    assert MASDAModel(rng=0, task="digits", pretrain_epochs=0, eta=0.01).eta == 0.01
    assert MASDAModel(rng=0, pretrain_epochs=0).eta == MASDA_PARAMETERS["eta"].default


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"zeta": 1.0}, "zeta"),
        ({"eta": -1.0}, "eta"),
        ({"layers": [6, 2**63, 1]}, "layers"),
        ({"layers": [6, 10**5, 10**5, 1]}, "layers"),
        ({"samples_per_epoch": 10**15}, "samples_per_epoch"),
        ({"layers": "6,8,1"}, "layers"),
        ({"rng": "seven"}, "rng"),
        ({"rng": -1}, "rng"),
        ({"glia_topology": nx.Graph([("a", "b")])}, "glia_topology"),
    ],
)
def test_bad_values_raise_a_parameter_error_that_names_the_parameter(params, name):
    with pytest.raises(ParameterError) as caught:
        NGModel(**params)
    assert caught.value.name == name.split("[")[0] or caught.value.name == name
    assert str(caught.value).startswith(name)


def test_numpy_values_are_accepted():
    model = NGModel(
        layers=np.array([6, 4, 1]), mini_batch_size=np.int64(50), pruning=np.bool_(True),
        eta=np.float32(0.5), rng=np.int64(3), epochs=0,
    )  # fmt: skip
    assert model.layers == (6, 4, 1) and model.mini_batch_size == 50 and model.pruning is True


def test_server_controls_are_the_tables():
    from glianet import server

    for name, (cls, controls, _) in server.MODELS.items():
        for key, control in controls.items():
            if key == "rng":
                continue
            p = cls.parameters[key]
            assert control["value"] == p.default and control["label"] == p.label, name
            if control["type"] == "Select":
                assert control["values"] == list(p.choices)


# -- the directed network space -----------------------------------------------------------------
def test_directed_network_connects_one_way_and_counts_changes():
    space = DirectedNetwork(nx.DiGraph([(0, 1)]), random=random.Random(0))
    assert set(space[0].connections) == {1} and set(space[1].connections) == set()
    space.add_node(2)
    before = space.version
    space.connect(1, 2, synapse="s")
    assert space.G.has_edge(1, 2) and not space.G.has_edge(2, 1)
    assert space.G.edges[1, 2]["synapse"] == "s"
    assert set(space[1].connections) == {2} and set(space[2].connections) == set()
    assert space.upstream(2) == [1] and space.downstream(1) == [2]
    space.disconnect(1, 2)
    assert not space.G.has_edge(1, 2) and set(space[1].connections) == set()
    space.connect(0, 2)
    space.remove_node(2)
    assert 2 not in space.G and set(space[0].connections) == {1}
    assert space.version == before + 4


def test_ng_neurons_see_upstream_and_downstream_through_the_space():
    model = NGModel(rng=0, epochs=0)
    neuron = model.neurons[10]  # hidden layer 1
    assert model.grid.upstream(neuron.index) == list(range(6))
    assert model.grid.downstream(neuron.index) == list(range(14, 22))
    assert set(neuron.cell.connections) == set(range(14, 22))
