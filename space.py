"""The network space both models live in: a Mesa ``Network`` whose edges have a direction; and
NG's :class:`LayeredNetwork`, whose synapse edges are read from the arrays."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from random import Random

import networkx as nx
import numpy as np
from mesa.discrete_space import Cell, CellCollection, Network


class DirectedNetwork(Network):
    """A Mesa network space on a NetworkX ``DiGraph``: an edge ``pre -> post`` carries activity
    one way (a synapse, a MASDA message route).

    Mesa's ``Network.add_connection`` / ``remove_connection`` connect cells both ways; here
    :meth:`connect` and :meth:`disconnect` change the edge in ``G`` and the cells' connections
    together and in one direction, so ``grid[pre].connections`` holds exactly the successors of
    ``pre`` and ``grid[pre].neighborhood`` (a ``CellCollection``, as on any Mesa network) the
    cells downstream. Upstream and downstream questions are answered the Mesa way by
    :meth:`upstream_cells` and :meth:`downstream_cells` (each a ``CellCollection``, whose
    ``.agents`` are the agents on those cells), and as node lists in order by :meth:`upstream`
    and :meth:`downstream`. ``version`` counts topology changes, so a scheduler can tell when to
    rebuild what it derived from the topology.

    Parameters
    ----------
    graph : networkx.DiGraph, optional
        Nodes (and edges) to start with; the space wraps it, it does not copy it.
    random : random.Random, optional
        Mesa's random generator of the model.
    layout : mapping, optional
        Position of each node, for drawing (no layout is computed).
    """

    def __init__(
        self,
        graph: nx.DiGraph | None = None,
        random: Random | None = None,
        layout: Mapping | None = None,
    ) -> None:
        graph = nx.DiGraph() if graph is None else graph
        if not graph.is_directed():
            raise TypeError("DirectedNetwork needs a networkx.DiGraph")
        super().__init__(graph, capacity=None, random=random, layout=layout)
        self.version = 0

    def connect(self, pre, post, **data) -> None:
        """Add the edge ``pre -> post`` (with edge ``data``) and connect the cells that way."""
        self.G.add_edge(pre, post, **data)
        self._cells[pre].connect(self._cells[post], post)
        self.version += 1

    def disconnect(self, pre, post) -> None:
        """Remove the edge ``pre -> post`` and the cells' connection."""
        self.G.remove_edge(pre, post)
        self._cells[pre].disconnect(self._cells[post])
        self.version += 1

    def add_node(self, node) -> Cell:
        """A new node and its cell."""
        cell = self.cell_klass(node, capacity=None, random=self.random)
        self.add_cell(cell)
        self.version += 1
        return cell

    def remove_node(self, node) -> None:
        """Remove a node, its cell and every edge into or out of it."""
        cell = self._cells[node]
        for pre in list(self.G.predecessors(node)):
            self._cells[pre].disconnect(cell)
        self.remove_cell(cell)
        self.version += 1

    def upstream(self, node) -> list:
        """Nodes with an edge into ``node``, in sorted order."""
        return sorted(self.G.predecessors(node))

    def downstream(self, node) -> list:
        """Nodes ``node`` has an edge to, in sorted order."""
        return sorted(self.G.successors(node))

    def upstream_cells(self, cell: Cell | object) -> CellCollection:
        """The cells with an edge into ``cell`` (a cell or its node), in node order."""
        return self._collection(self.upstream(self._node(cell)))

    def downstream_cells(self, cell: Cell | object) -> CellCollection:
        """The cells ``cell`` (a cell or its node) has an edge to, in node order: the same cells
        as ``cell.neighborhood``."""
        return self._collection(self.downstream(self._node(cell)))

    def _node(self, cell: Cell | object):
        return cell.coordinate if isinstance(cell, Cell) else cell

    def _collection(self, nodes: list) -> CellCollection:
        return CellCollection([self._cells[node] for node in nodes], random=self.random)


class LayeredNetwork(DirectedNetwork):
    """The NG space when Synapse-Agents are made on demand (``synapse_agents="lazy"``).

    The neurons are the nodes of ``G`` (with their ``layer``), as in a :class:`DirectedNetwork`,
    but no synapse is stored as an edge: ``G``'s adjacency is read from the model's
    :class:`~glianet.state.LayeredState` masks, so ``G.predecessors``, ``G.in_degree``,
    ``G.edges``, ``upstream`` / ``downstream`` and the cells' ``connections`` always show the
    synapses present, at a few bytes a synapse. ``G.edges[pre, post]["synapse"]`` (and
    :meth:`synapse`) hands out the synapse's agent, made by ``materialize`` the first time it
    is asked for and kept until the synapse goes. ``G`` is frozen: synapses come and go with the
    mask (:meth:`disconnect`), neurons stay.

    Parameters
    ----------
    state : LayeredState
        The arrays whose ``mask`` says which synapses are present.
    materialize : callable
        ``materialize(index)`` creates the agent of synapse slot ``index``; the agent attaches
        itself through :meth:`connect`.
    random : random.Random, optional
        Mesa's random generator of the model.
    layout : mapping, optional
        Position of each neuron, for drawing.
    """

    def __init__(
        self,
        state,
        materialize: Callable[[int], object],
        random: Random | None = None,
        layout: Mapping | None = None,
    ) -> None:
        self.state = state
        self.materialize = materialize
        #: The Synapse-Agents made so far and not yet removed, by synapse slot.
        self.synapse_agents: dict[int, object] = {}
        graph = nx.DiGraph()
        for layer in range(state.n_layers):
            graph.add_nodes_from(range(*state.neurons(layer).indices(len(state.b))), layer=layer)
        super().__init__(graph, random=random, layout=layout)
        graph._succ = graph._adj = SynapseAdjacency(self, downstream=True)
        graph._pred = SynapseAdjacency(self, downstream=False)
        nx.freeze(graph)

    def _connect_single_cell(self, cell: Cell) -> None:
        # Mesa calls this for every cell when the space is built.
        cell.connections = DownstreamCells(self, cell.coordinate)

    def synapse(self, index: int):
        """The agent of synapse slot ``index`` (made now if it has not been asked for yet)."""
        agent = self.synapse_agents.get(index)
        return self.materialize(index) if agent is None else agent

    def connect(self, pre, post, synapse=None) -> None:
        """Attach ``synapse``, the agent of the present synapse ``pre -> post``, to its edge."""
        index = self.state.synapse_index(pre, post)
        if not self.state.mask[index]:
            raise ValueError(f"there is no synapse {pre} -> {post}: it was pruned")
        self.synapse_agents[index] = synapse

    def disconnect(self, pre, post) -> None:
        """Remove the synapse ``pre -> post``: its mask entry and its agent's place go."""
        index = self.state.synapse_index(pre, post)
        self.state.mask[index] = False
        self.synapse_agents.pop(index, None)
        self._cells[pre].disconnect(self._cells[post])  # clears the cell's neighbourhood cache
        self.version += 1

    def add_node(self, node) -> Cell:
        """Refused: the neurons of a layered network are fixed."""
        raise nx.NetworkXError(f"cannot add node {node!r}: a LayeredNetwork's neurons are fixed")

    def remove_node(self, node) -> None:
        """Refused: the neurons of a layered network are fixed."""
        raise nx.NetworkXError(f"cannot remove node {node!r}: a LayeredNetwork's neurons are fixed")

    def upstream(self, node) -> list:
        """Neurons with a synapse into ``node``, in order."""
        return list(self.G._pred[node])

    def downstream(self, node) -> list:
        """Neurons ``node`` has a synapse to, in order."""
        return list(self.G._succ[node])


class SynapseAdjacency(Mapping):
    """``G._succ`` (``downstream``) or ``G._pred`` of a :class:`LayeredNetwork`: neuron ->
    its :class:`SynapseNeighbours`, made when asked for."""

    def __init__(self, space: LayeredNetwork, downstream: bool) -> None:
        self.space = space
        self.downstream = downstream

    def __getitem__(self, node) -> SynapseNeighbours:
        if node not in self.space.G._node:
            raise KeyError(node)
        return SynapseNeighbours(self.space, node, self.downstream)

    def __iter__(self):
        return iter(self.space.G._node)

    def __len__(self) -> int:
        return len(self.space.G._node)


class SynapseNeighbours(Mapping):
    """One neuron's neighbours over present synapses (post neurons if ``downstream``, else pre
    neurons), in order, each mapped to its edge's data ``{"synapse": agent}``."""

    def __init__(self, space: LayeredNetwork, node: int, downstream: bool) -> None:
        self.space = space
        self.node = node
        self.downstream = downstream

    def _slots(self):
        s = self.space.state
        return s.outgoing(self.node) if self.downstream else s.incoming(self.node)

    def _slot(self, other) -> int:
        """Slot of the present synapse between this neuron and ``other``, else ``KeyError``."""
        s = self.space.state
        if not isinstance(other, int | np.integer):
            raise KeyError(other)
        pre, post = (self.node, other) if self.downstream else (other, self.node)
        index = s.synapse_index(int(pre), int(post))
        if not s.mask[index]:
            raise KeyError(other)
        return index

    def __getitem__(self, other) -> SynapseData:
        return SynapseData(self.space, self._slot(other))

    def __contains__(self, other) -> bool:
        try:
            self._slot(other)
        except KeyError:
            return False
        return True

    def __iter__(self):
        s, slots = self.space.state, self._slots()
        return iter((s.post if self.downstream else s.pre)[slots].tolist())

    def __len__(self) -> int:
        return len(self._slots())


class SynapseData(Mapping):
    """The data of one synapse edge: ``{"synapse": its agent}``, the agent made on access."""

    def __init__(self, space: LayeredNetwork, index: int) -> None:
        self.space = space
        self.index = index

    def __getitem__(self, key):
        if key != "synapse":
            raise KeyError(key)
        return self.space.synapse(self.index)

    def __iter__(self):
        return iter(("synapse",))

    def __len__(self) -> int:
        return 1


class DownstreamCells(Mapping):
    """``connections`` of a neuron's cell in a :class:`LayeredNetwork`: post neuron -> its cell,
    over the synapses present."""

    def __init__(self, space: LayeredNetwork, node: int) -> None:
        self.neighbours = SynapseNeighbours(space, node, downstream=True)
        self.cells = space._cells

    def __getitem__(self, other) -> Cell:
        if other not in self.neighbours:
            raise KeyError(other)
        return self.cells[other]

    def __iter__(self):
        return iter(self.neighbours)

    def __len__(self) -> int:
        return len(self.neighbours)

    # Mesa walks connections by values() and items(): one read of the mask, not one per key.
    def values(self) -> list[Cell]:
        """The cells of the post neurons, in order."""
        return [self.cells[post] for post in self.neighbours]

    def items(self) -> list[tuple[int, Cell]]:
        """(post neuron, its cell) pairs, in order."""
        return [(post, self.cells[post]) for post in self.neighbours]
