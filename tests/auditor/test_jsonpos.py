import json

import pytest

from auditor import jsonpos


def test_strings_know_their_line():
    text = '{\n  "a": "first",\n  "b": [\n    "second",\n    {"c": "third"}\n  ]\n}'
    value = jsonpos.loads(text).value
    assert value == json.loads(text)
    assert value["a"].line == 2
    assert value["b"][0].line == 4
    assert value["b"][1]["c"].line == 5


def test_escapes_decode_like_the_standard_library():
    text = json.dumps({"code": 'print("héllo")\n\tx = 1 \\ 2', "u": "\u2028é"}, ensure_ascii=True)
    assert jsonpos.loads(text).value == json.loads(text)


def test_strict_mode_rejects_truncation():
    with pytest.raises(jsonpos.JSONPosError):
        jsonpos.loads('{"a": [1, 2')


def test_lenient_mode_keeps_what_was_read_before_a_cut_string():
    text = '{"nodes": [{"code": "import os"}, {"code": "from openai import OpenAI\\nclient = Op'
    parsed = jsonpos.loads(text, lenient=True)
    assert parsed.error and "cut off" in parsed.error
    codes = [n["code"] for n in parsed.value["nodes"]]
    assert codes == ["import os", "from openai import OpenAI\nclient = Op"]


def test_lenient_mode_closes_open_containers():
    parsed = jsonpos.loads('{"a": [1, 2, {"b": "x"}', lenient=True)
    assert parsed.value == {"a": [1, 2, {"b": "x"}]}
    assert "ends inside" in parsed.error


def test_nesting_is_bounded():
    parsed = jsonpos.loads("[" * 100_000 + "]" * 100_000, lenient=True)
    assert parsed.value is None
    assert "nesting" in parsed.error
    with pytest.raises(jsonpos.JSONPosError):
        jsonpos.loads("[" * 1000 + "]" * 1000)


def test_garbage_in_the_middle_is_an_error_not_a_truncation():
    parsed = jsonpos.loads('[1, }, 3]', lenient=True)
    assert parsed.value is None and "unexpected" in parsed.error
