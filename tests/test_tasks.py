import numpy as np
import pytest

from superopt.tasks.sort import weak_orderings, INT32_MIN, INT32_MAX
from superopt.tasks.registry import TASKS, get_task


@pytest.mark.parametrize("n,count", [(0, 1), (1, 1), (2, 3), (3, 13), (4, 75), (5, 541), (6, 4683), (7, 47293)])
def test_weak_ordering_counts_and_uniqueness(n, count):
    w = weak_orderings(n)
    assert w.shape == (count, n)
    assert len({tuple(r) for r in w.tolist()}) == count
    for row in w[:200]:  # ranks are dense: 0..m-1 all used
        assert set(row.tolist()) == set(range(len(set(row.tolist()))))


def test_proof_inputs_span_sign_boundary_and_extremes():
    arrays, lengths = get_task("sort3").proof_inputs()
    assert len(arrays) == 13 and (lengths == 3).all()
    assert arrays.min() == INT32_MIN and arrays.max() == INT32_MAX
    # relative order of every input is the order of its ranks
    ranks = weak_orderings(3)
    for a, r in zip(arrays, ranks):
        assert (np.argsort(a, kind="stable") == np.argsort(r, kind="stable")).all()


def test_varsort_inputs_cover_every_length_and_keep_a_marker_past_it():
    arrays, lengths = get_task("varsort4").proof_inputs()
    assert sorted(set(lengths.tolist())) == [0, 1, 2, 3, 4]
    assert len(arrays) == 1 + 1 + 3 + 13 + 75
    exp = get_task("varsort4").expected(arrays, lengths)
    for a, k, e in zip(arrays, lengths, exp):
        assert (e[k:] == a[k:]).all() and (np.diff(e[:k].astype(np.int64)) >= 0).all()


def test_random_inputs_distributions():
    rng = np.random.default_rng(1)
    t = get_task("sort5")
    a, l = t.random_inputs(rng, 500, "sorted")
    assert (np.diff(a.astype(np.int64), axis=1) >= 0).all()
    a, _ = t.random_inputs(rng, 500, "reversed")
    assert (np.diff(a.astype(np.int64), axis=1) <= 0).all()
    a, _ = t.random_inputs(rng, 500, "equal")
    assert (a == a[:, :1]).all()
    with pytest.raises(ValueError):
        t.random_inputs(rng, 5, "zigzag")


def test_registry():
    assert set(TASKS) >= {"sort3", "sort8", "varsort3", "varsort5"}
    assert get_task("varsort3").signature == "void varsort3(int32_t *a, int32_t n)"
    with pytest.raises(KeyError, match="unknown task"):
        get_task("sort99")


def test_element_type_and_its_order_conditions():
    for t in (t for t in TASKS.values() if t.kind == "array"):   # the sorts (varint tasks: test_varint.py)
        assert t.element == "int32" and t.signature.startswith("void %s(int32_t *a" % t.name)
        assert t.order_conditions == {"l", "le", "g", "ge", "e", "ne"}  # signed order and equality


def test_cli_lists_every_task():
    import json

    from click.testing import CliRunner

    from superopt.cli import main
    result = CliRunner().invoke(main, ["tasks"])
    assert result.exit_code == 0 and all(t in result.output for t in TASKS) and "int32" in result.output
    data = json.loads(CliRunner().invoke(main, ["tasks", "--json"]).output)
    assert [t["task"] for t in data["tasks"]] == list(TASKS)
    assert data["tasks"][0] == {"task": "sort3", "signature": "void sort3(int32_t *a)", "n": 3, "variable": False,
                                "element": "int32", "description": TASKS["sort3"].description}
