"""The network space both models live in: a Mesa ``Network`` whose edges have a direction."""

from __future__ import annotations

from collections.abc import Mapping
from random import Random

import networkx as nx
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
