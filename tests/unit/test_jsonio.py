import json

import pytest

from agentsh_runtime import jsonio

DOCS = [
    {}, [], {"a": [1, 2.5, -3, True, False, None, "x"]}, "ünïcode \n\t\"q\"",
    {"nested": {"deep": [{"k": "v"}]}, "big": 18446744073709551615, "neg": -1},
    [1e-5, 1.5e300], "\u2028\U0001F600",
]


@pytest.mark.parametrize("doc", DOCS)
def test_roundtrip_matches_json(doc):
    text = jsonio.dumps(doc)
    assert json.loads(text) == doc
    assert jsonio.loads(text) == doc
    assert jsonio.loads(json.dumps(doc, indent=2)) == doc


@pytest.mark.parametrize("bad", ["", "{", "[1,]", "{} x", "nul", "NaN", "{'a': 1}", "01"])
def test_rejects(bad):
    with pytest.raises(ValueError):
        jsonio.loads(bad)


def test_non_finite_and_bad_keys():
    with pytest.raises(ValueError):
        jsonio.dumps(float("nan"))
    with pytest.raises(ValueError):
        jsonio.dumps({"a": [float("inf")]})
    # scalar keys become strings, as json.dumps makes them; other keys are refused
    assert jsonio.dumps({1: 2}) == '{"1":2}'
    with pytest.raises(TypeError):
        jsonio.dumps({(1, 2): 2})
    with pytest.raises(TypeError):
        jsonio.dumps(object())


def test_dumps_matches_json_dumps_compact():
    import json

    doc = {"a": [1, 2.5, None, True, False, "x\u00e9\"\n"], "b": {"c": []}, "n": -3,
           "big": 2**70, "t": ("x", 1)}
    assert jsonio.dumps(doc) == json.dumps(doc, separators=(",", ":"))


def test_bytes_input():
    assert jsonio.loads(b' {"a": 1} ') == {"a": 1}
