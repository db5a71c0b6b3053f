"""Hostile and damaged checkpoint files: each is refused with a CheckpointError, quickly and
without allocating what it declares."""

import io
import json
import os
import time
import tracemalloc
import warnings
import zipfile
import zlib

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from glianet import NGModel
from glianet.checkpoint import CheckpointError
from glianet.model import MASDAModel
from glianet.tasks import AnyUpperBits, Task

#: What loading any file may take: CPU seconds (not wall time: the machine is shared) and
#: bytes allocated at the peak (tracemalloc sees NumPy's buffers too).
CPU_SECONDS = 1.0
PEAK_BYTES = 64 * 2**20

NG_PARAMS = {"epochs": 10, "samples_per_epoch": 500}
MASDA_PARAMS = {"n_units": 4, "pretrain_epochs": 5, "engine": "vectorized"}
BITS = AnyUpperBits(6, 3)
#: A task given as an object, with a held-out split: its four arrays go into the file.
SPLIT = Task("split", BITS.inputs[:48], BITS.targets[:48], BITS.inputs[48:], BITS.targets[48:])

#: The checkpoints the hostile files start from: NG with eager Synapse-Agents; NG with lazy
#: ones, the running reading (its statistics saved) and a task object with a test split; MASDA,
#: also with the weight plateau (its weight marks saved).
VARIANTS = {
    "ng": (NGModel, NG_PARAMS),
    "ng-lazy": (
        NGModel, {**NG_PARAMS, "synapse_agents": "lazy", "sensing": "running", "task": SPLIT},
    ),
    "masda": (MASDAModel, MASDA_PARAMS),
    "masda-weights": (MASDAModel, {**MASDA_PARAMS, "plateau": "weights"}),  # W_mark saved
}  # fmt: skip


@pytest.fixture(scope="module")
def valid_files(tmp_path_factory):
    """Valid checkpoint bytes of each variant, after one epoch."""
    folder = tmp_path_factory.mktemp("valid")
    files = {}
    for name, (model_class, params) in VARIANTS.items():
        model = model_class(rng=1, **params)
        model.step()
        model.save(folder / f"{name}.npz")
        files[name] = (folder / f"{name}.npz").read_bytes()
    return files


def members_of(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def zip_of(members) -> bytes:
    """A zip of ``(name, content)`` members, duplicates included (zipfile only warns)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
        warnings.simplefilter("ignore", UserWarning)
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def meta_of(data: bytes) -> dict:
    raw = dict(members_of(data))["meta.json.npy"]
    return json.loads(np.load(io.BytesIO(raw)).tobytes())


def with_meta(data: bytes, meta) -> bytes:
    text = meta if isinstance(meta, str) else json.dumps(meta)
    encoded = npy(np.frombuffer(text.encode(), dtype=np.uint8))
    return zip_of([(n, encoded if n == "meta.json.npy" else d) for n, d in members_of(data)])


def with_member(data: bytes, name: str, content: bytes) -> bytes:
    return zip_of([(n, content if n == name else d) for n, d in members_of(data)])


def load_bounded(model_class, path):
    """Load ``path``; returns the model or the CheckpointError, after checking that loading
    raised nothing else and stayed within CPU_SECONDS and PEAK_BYTES."""
    tracemalloc.start()
    start = time.process_time()
    try:
        result = model_class.load(path)
    except CheckpointError as error:
        result = error
    finally:
        elapsed = time.process_time() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert elapsed < CPU_SECONDS, f"loading took {elapsed:.2f} CPU s"
    assert peak < PEAK_BYTES, f"loading allocated {peak / 2**20:.0f} MiB"
    return result


def refused(model_class, path, data: bytes, match: str = "") -> CheckpointError:
    path.write_bytes(data)
    result = load_bounded(model_class, path)
    assert isinstance(result, CheckpointError), "a bad file was loaded"
    assert match in str(result)
    return result


# -- named hostile files --------------------------------------------------------------------
def test_a_plain_npy_file_is_refused(tmp_path):
    refused(NGModel, tmp_path / "plain.npz", npy(np.zeros(10)))


def test_deeply_nested_metadata_is_refused(tmp_path, valid_files):
    nested = "[" * 100_000 + "]" * 100_000
    refused(NGModel, tmp_path / "nested.npz", with_meta(valid_files["ng"], nested))
    parsable = {**meta_of(valid_files["ng"]), "state": json.loads("[" * 40 + "]" * 40)}
    data = with_meta(valid_files["ng"], parsable)
    refused(NGModel, tmp_path / "deep.npz", data, "nested deeper")


def test_a_member_declaring_a_huge_array_is_refused(tmp_path, valid_files):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
    )
    data = with_member(valid_files["ng"], "w.npy", header.getvalue())
    refused(NGModel, tmp_path / "huge.npz", data, "declares")


def deflated_member(name: str, header_shape: tuple, zero_bytes: int) -> tuple:
    """A deflated member: an .npy header, then ``zero_bytes`` zeros (compressed ~1000:1)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": header_shape}
    )
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk, crc = bytes(2**24), zlib.crc32(header.getvalue())
    body = [compressor.compress(header.getvalue())]
    for _ in range(zero_bytes // len(chunk)):
        body.append(compressor.compress(chunk))
        crc = zlib.crc32(chunk, crc)
    body.append(compressor.flush())
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info, b"".join(body), len(header.getvalue()) + zero_bytes, crc


def bomb(valid: bytes, header_shape: tuple, zero_bytes: int) -> bytes:
    """A valid checkpoint whose ``w.npy`` is replaced by a deflate bomb (built by hand: a
    zip's sizes and CRC are written for the compressed stream as zipfile would)."""
    info, compressed, size, crc = deflated_member("w.npy", header_shape, zero_bytes)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members_of(valid):
            if name != "w.npy":
                archive.writestr(name, content)
        info.compress_size, info.file_size, info.CRC = len(compressed), size, crc
        info.header_offset = buffer.tell()
        buffer.write(info.FileHeader(zip64=False))
        buffer.write(compressed)
        archive.filelist.append(info)
        archive.NameToInfo[info.filename] = info
        archive.start_dir = buffer.tell()
    return buffer.getvalue()


@pytest.mark.parametrize("consistent_header", [True, False])
def test_a_deflate_bomb_is_refused_before_it_is_inflated(tmp_path, valid_files, consistent_header):
    zero_bytes = 2**29  # 512 MiB of zeros in about 0.5 MB
    shape = (zero_bytes // 8,) if consistent_header else (184,)
    data = bomb(valid_files["ng"], shape, zero_bytes)
    assert len(data) < 2**20
    refused(NGModel, tmp_path / "bomb.npz", data, "'w")


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_what_is_not_a_regular_file_is_refused_without_waiting(tmp_path, kind):
    path = tmp_path / "special.npz"
    os.mkfifo(path) if kind == "fifo" else path.mkdir()
    with pytest.raises(CheckpointError, match="not a regular file"):
        NGModel.load(path)


def test_metadata_asking_for_a_huge_model_is_refused_before_it_is_built(tmp_path, valid_files):
    meta = meta_of(valid_files["ng"])
    meta["params"]["layers"] = [6, 10**6, 1]
    refused(NGModel, tmp_path / "layers.npz", with_meta(valid_files["ng"], meta), "'w'")


def test_unknown_and_duplicate_members_are_refused(tmp_path, valid_files):
    members = members_of(valid_files["ng"])
    extra = zip_of([*members, ("evil.npy", npy(np.zeros(3)))])
    refused(NGModel, tmp_path / "unknown.npz", extra, "unknown member 'evil.npy'")
    w = dict(members)["w.npy"]
    zeros = npy(np.zeros_like(np.load(io.BytesIO(w))))
    twice = zip_of([*members, ("w.npy", zeros)])
    refused(NGModel, tmp_path / "twice.npz", twice, "'w.npy' appears more than once")


def test_a_zip_directory_too_large_for_a_checkpoint_is_refused(tmp_path):
    many = zip_of([(f"m{k}.npy", b"") for k in range(1000)])
    refused(NGModel, tmp_path / "many.npz", many, "1000 members")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda m: m.update(epoch=-1), "epoch -1 is outside 0..10"),
        (lambda m: m.update(epoch=11), "epoch 11 is outside 0..10"),
        (lambda m: m.update(epoch=2), "one value per epoch"),
        (lambda m: m["state"].update(samples_seen=501), "samples_seen"),
        (lambda m: m.update(random=[10**30] * 625), "checkpoint content"),  # OverflowError
        (lambda m: m["params"].update(task={"name": 5}), "task"),
        (lambda m: m["state"].update(prune_log=7), "prune_log"),
        (lambda m: m["state"].update(prune_orders=-1), "prune_orders"),
        (lambda m: m.update(diverged=[1]), "'diverged'"),
        (lambda m: m["params"].update(glia_topology={"edges": 3}), "glia_topology"),
        (lambda m: m["params"].update(zeta=1.0), "zeta"),
    ],
)
def test_metadata_a_run_cannot_have_is_refused(tmp_path, valid_files, change, match):
    meta = meta_of(valid_files["ng"])
    change(meta)
    refused(NGModel, tmp_path / "meta.npz", with_meta(valid_files["ng"], meta), match)


def array_edit(name, edit):
    def change(data):
        array = np.load(io.BytesIO(dict(members_of(data))[f"{name}.npy"])).copy()
        edit(array)
        return with_member(data, f"{name}.npy", npy(array))

    return change


def set_first(value):
    return lambda a: a.__setitem__(0, value)


def set_last(value):
    return lambda a: a.__setitem__(-1, value)


@pytest.mark.parametrize(
    ("variant", "change", "match"),
    [
        ("ng", array_edit("mask", lambda a: a.fill(False)), "never prunes"),
        ("ng", array_edit("w", set_first(np.nan)), "did not diverge"),
        ("ng", array_edit("sig", set_first(1.5)), "sig"),
        ("ng", array_edit("cnt", set_first(1)), "outlier counts"),
        ("ng", array_edit("run_n", set_last(1)), "running sample counts"),  # not the reading
        ("ng-lazy", array_edit("run_n", set_first(1)), "running sample counts"),  # no glia
        ("ng-lazy", array_edit("run_n", set_last(10**6)), "running sample counts"),
        ("ng-lazy", array_edit("run_var", set_last(-1.0)), "running statistics"),
        ("ng-lazy", array_edit("run_mean", set_first(0.5)), "running statistics"),  # n = 0
        ("ng-lazy", array_edit("run_mean", set_last(np.nan)), "NaN running"),
        ("ng-lazy", array_edit("task_test_inputs", lambda a: a.fill(np.inf)), "NaN or inf"),
        ("masda", array_edit("corruption", set_first(1.5)), "corruption"),
        ("masda", array_edit("score", set_last(np.nan)), "score is not finite"),
        ("masda", array_edit("reward", set_last(1.5)), "reward is above 1"),
        ("masda-weights", array_edit("W_mark", set_first(1.0)), "W_mark: a weight where no edge"),
    ],
)
def test_arrays_a_run_cannot_have_are_refused(tmp_path, valid_files, variant, change, match):
    model_class = VARIANTS[variant][0]
    refused(model_class, tmp_path / "arrays.npz", change(valid_files[variant]), match)


def test_a_task_split_needs_both_of_its_arrays(tmp_path, valid_files):
    members = members_of(valid_files["ng-lazy"])
    half = zip_of([(n, d) for n, d in members if n != "task_test_targets.npy"])
    refused(NGModel, tmp_path / "half.npz", half, "the task's arrays are missing")


def test_a_negative_masda_score_is_a_run_s(tmp_path, valid_files):
    """A score is a running mean of credit, which can be negative: such a file loads."""
    data = array_edit("score", set_last(-0.25))(valid_files["masda"])
    loaded = load_bounded(MASDAModel, write(tmp_path / "negative.npz", data))
    assert isinstance(loaded, MASDAModel) and loaded.units.score[loaded.units.size - 1] == -0.25


def test_masks_are_checked_against_the_guard(tmp_path):
    model = NGModel(rng=0, layers=[6, 3, 3, 1], protect_io=False, **NG_PARAMS)
    model.save(tmp_path / "m.npz")
    data = (tmp_path / "m.npz").read_bytes()
    s = model.state
    neuron = int(s.n_off[2])  # the first neuron of layer 2: all its incoming synapses pruned
    mask = s.mask.copy()
    mask[s.post == neuron] = False
    data = with_member(data, "mask.npy", npy(mask))
    meta = meta_of(data)
    meta["state"]["prune_log"] = [
        {"epoch": 1, "sample": 0, "layer": 2, "pre": int(p), "post": neuron, "weight": 0.0}
        for p in s.pre[s.post == neuron]
    ]
    meta["state"]["prune_orders"] = 3
    data = with_meta(with_member(data, "w.npy", npy(np.where(mask, s.w, 0.0))), meta)
    refused(NGModel, tmp_path / "guard.npz", data, "guard forbids")
    meta["params"]["keep_last_synapse"] = False  # without the guard the same mask is a run's
    assert isinstance(load_bounded(NGModel, write(tmp_path / "free.npz", with_meta(data, meta))),
                      NGModel)  # fmt: skip


def write(path, data):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda m: m["state"].update(size=10**6), "unit count"),
        (lambda m: m["state"]["names"].popitem(), "names"),
        (lambda m: m["state"].update(seed_sequence_entropy=-1), "seed"),
        (lambda m: m["state"].update(bias=0), "constant units"),
    ],
)
def test_masda_metadata_a_run_cannot_have_is_refused(tmp_path, valid_files, change, match):
    meta = meta_of(valid_files["masda"])
    change(meta)
    refused(MASDAModel, tmp_path / "m.npz", with_meta(valid_files["masda"], meta), match)


# -- anything at all ------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)


def json_paths(value, path=()):
    """Every path to a value inside ``value`` (lists: their first three items)."""
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from json_paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value[:3]):
            yield from json_paths(child, (*path, index))


@st.composite
def hostile_files(draw, valid_files):
    name = draw(st.sampled_from(list(VARIANTS)))
    model_class, valid = VARIANTS[name][0], valid_files[name]
    how = draw(st.sampled_from(["bytes", "flips", "truncate", "members", "json"]))
    if how == "bytes":
        return model_class, draw(st.binary(max_size=2048))
    if how == "flips":
        data = bytearray(valid)
        for position in draw(st.lists(st.integers(0, len(data) - 1), min_size=1, max_size=8)):
            data[position] ^= 1 << draw(st.integers(0, 7))
        return model_class, bytes(data)
    if how == "truncate":
        return model_class, valid[: draw(st.integers(0, len(valid) - 1))]
    members = members_of(valid)
    if how == "members":
        names = [name for name, _ in members]
        contents = [content for _, content in members]
        action = draw(st.sampled_from(["swap", "drop", "duplicate", "replace"]))
        i, j = draw(st.integers(0, len(names) - 1)), draw(st.integers(0, len(names) - 1))
        if action == "swap":
            contents[i], contents[j] = contents[j], contents[i]
        elif action == "drop":
            del names[i], contents[i]
        elif action == "duplicate":
            names.append(names[i])
            contents.append(contents[j])
        else:
            dtype = draw(st.sampled_from([np.float64, np.int64, np.bool_, np.uint8, np.float32]))
            shape = tuple(draw(st.lists(st.integers(0, 5), max_size=3)))
            contents[i] = npy(np.zeros(shape, dtype=dtype))
        return model_class, zip_of(list(zip(names, contents, strict=True)))
    meta = meta_of(valid)
    path = draw(st.sampled_from(list(json_paths(meta))[1:]))
    parent = meta
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = draw(json_values)
    return model_class, with_meta(valid, meta)


@pytest.fixture(scope="module")
def warmed(valid_files, tmp_path_factory):
    """Load each valid file once, so the first example does not pay for imports."""
    for name, data in valid_files.items():
        VARIANTS[name][0].load(write(tmp_path_factory.mktemp("warm") / "v.npz", data))
    return valid_files


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_file_loads_or_raises_checkpoint_error_within_bounds(tmp_path, warmed, data):
    model_class, content = data.draw(hostile_files(warmed))
    result = load_bounded(model_class, write(tmp_path / "hostile.npz", content))
    if isinstance(result, model_class) and result.running:
        result.step()  # what loads is a model that runs
